"""posix_spawn, posix_spawnp and subprocess from an unmodified python3, run by spawn.test.ts through `danaus run`
with R naming a directory (in a tenant mount, or on the host for comparison). Each case prints one line: what the
spawned program left in the files, or the error the parent got. Usage: spawn-driver.py CASE..."""
import ctypes
import os
import signal
import subprocess
import sys

R = os.environ["R"]
os.makedirs(R, exist_ok=True)


def out(*words):
    print(*words, flush=True)


def wait(pid):
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def read(name):
    with open(os.path.join(R, name), "rb") as f:
        return f.read().decode()


def case_open():
    # POSIX_SPAWN_OPEN of a file in R onto 1, then onto 0 for cat, whose output goes to a private descriptor by DUP2.
    w = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    pid = os.posix_spawn("/bin/echo", ["echo", "opened by the spawn"], os.environ, file_actions=[(os.POSIX_SPAWN_OPEN, 1, f"{R}/open", w, 0o644)])
    code = wait(pid)
    target = os.open(f"{R}/dup", w, 0o644)  # close-on-exec, as python opens it
    pid = os.posix_spawnp("cat", ["cat"], os.environ, file_actions=[(os.POSIX_SPAWN_OPEN, 0, f"{R}/open", os.O_RDONLY, 0), (os.POSIX_SPAWN_DUP2, target, 1)])
    code2 = wait(pid)
    os.write(target, b"parent after\n")  # the spawn shares the open file: the parent continues after cat's bytes
    os.close(target)
    out("open", code, code2, repr(read("open")), repr(read("dup")))


def case_inherit():
    # A non-close-on-exec private descriptor is usable by the spawned program; POSIX_SPAWN_CLOSE takes it away.
    fd = os.open(f"{R}/inherited", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.set_inheritable(fd, True)
    probe = f"if {{ echo from sh >&{fd}; }} 2>/dev/null; then echo open; else echo closed; fi"
    pid = os.posix_spawn("/bin/sh", ["sh", "-c", probe], os.environ)
    code = wait(pid)
    pid = os.posix_spawn("/bin/sh", ["sh", "-c", probe], os.environ, file_actions=[(os.POSIX_SPAWN_CLOSE, fd)])
    code2 = wait(pid)
    os.close(fd)
    out("inherit", code, code2, repr(read("inherited")))


def fields_of(name, keys, code):
    """The "Key: value" lines of /proc files that a spawned cat left in `name`; fails showing the bytes when a key is missing."""
    text = read(name)
    pairs = (line.split(":", 1) for line in text.splitlines())
    fields = {pair[0].strip(): pair[1].strip() for pair in pairs if len(pair) == 2}
    if set(keys) - fields.keys():
        raise AssertionError(f"{name} lacks {sorted(set(keys) - fields.keys())}: {text!r} (cat's exit: {code})")
    return fields


def case_attributes():
    # setsid, setsigmask and setsigdef apply to a program whose stdout is a file in R.
    signal.signal(signal.SIGUSR2, signal.SIG_IGN)
    w = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    pid = os.posix_spawn("/bin/cat", ["cat", "/proc/self/status"], os.environ,
                         file_actions=[(os.POSIX_SPAWN_OPEN, 1, f"{R}/attrs", w, 0o644)], setsid=True, setsigmask=[signal.SIGUSR1], setsigdef=[signal.SIGUSR2])
    code = wait(pid)
    fields = fields_of("attrs", ["Pid", "NSsid", "SigBlk", "SigIgn"], code)
    blocked, ignored = int(fields["SigBlk"], 16), int(fields["SigIgn"], 16)
    out("attributes", code, "session is its own" if fields["Pid"] == fields["NSsid"] else f"session {fields['NSsid']} of {fields['Pid']}",
        "SIGUSR1 blocked" if blocked == 1 << (signal.SIGUSR1 - 1) else f"blocked {blocked:x}",
        "SIGUSR2 default" if not ignored & 1 << (signal.SIGUSR2 - 1) else "SIGUSR2 ignored")
    # setpgroup, resetids and scheduler (glibc takes only SCHED_OTHER, SCHED_FIFO and SCHED_RR); then setpgroup after setsid, which setpgid refuses in the child (EPERM).
    pid = os.posix_spawn("/bin/cat", ["cat", "/proc/self/status", "/proc/self/sched"], os.environ, file_actions=[(os.POSIX_SPAWN_OPEN, 1, f"{R}/group", w, 0o644)], setpgroup=0,
                         resetids=True, scheduler=(os.SCHED_OTHER, os.sched_param(0)))
    code = wait(pid)
    fields = fields_of("group", ["Pid", "NSpgid", "policy"], code)
    try:
        wait(os.posix_spawn("/bin/true", ["true"], os.environ, file_actions=[(os.POSIX_SPAWN_OPEN, 1, f"{R}/refused", w, 0o644)], setsid=True, setpgroup=0))
        refused = "spawned"
    except OSError as e:
        refused = os.strerror(e.errno)
    out("attributes", code, "group is its own" if fields["Pid"] == fields["NSpgid"] else f"group {fields['NSpgid']} of {fields['Pid']}",
        "other" if fields["policy"] == str(os.SCHED_OTHER) else f"policy {fields['policy']}", refused)


def case_missing():
    # A program that does not exist, on both spawn paths and with an action on R; an action that fails.
    results = []
    actions = [(os.POSIX_SPAWN_OPEN, 1, f"{R}/never", os.O_WRONLY | os.O_CREAT, 0o644)]
    for spawn, program, file_actions in [(os.posix_spawn, "/nonexistent/program", []), (os.posix_spawn, "/nonexistent/program", actions),
                                         (os.posix_spawnp, "no-such-program-anywhere", actions), (os.posix_spawn, "/bin/true", [(os.POSIX_SPAWN_OPEN, 0, f"{R}/missing/x", os.O_RDONLY, 0)])]:
        try:
            wait(spawn(program, [program], os.environ, file_actions=file_actions))
            results.append("spawned")
        except OSError as e:
            results.append(os.strerror(e.errno))
    out("missing", *results, "never exists" if os.path.exists(f"{R}/never") else "never absent")


def case_subprocess():
    # subprocess with stdout a file in R: through fork/vfork (close_fds) and through posix_spawn (close_fds=False).
    with open(f"{R}/sub", "w") as f:
        a = subprocess.run(["/bin/echo", "through subprocess"], stdout=f).returncode
        b = subprocess.run(["/bin/echo", "and through posix_spawn"], stdout=f, close_fds=False).returncode
        f.write("python last\n")
    with open(f"{R}/sub") as f:
        c = subprocess.run(["/bin/cat"], stdin=f, capture_output=True, text=True)
    out("subprocess", a, b, c.returncode, repr(read("sub")), repr(c.stdout))


def case_chdir():
    # addchdir_np into R, addfchdir_np of a directory opened in R, and addclosefrom_np, called through ctypes.
    libc = ctypes.CDLL(None, use_errno=True)
    os.mkdir(f"{R}/d")
    with open(f"{R}/d/inside", "w") as f:
        f.write("read relative to a directory descriptor\n")
    dirfd = os.open(f"{R}/d", os.O_RDONLY | os.O_DIRECTORY)
    keep = os.open(f"{R}/closed-from", os.O_WRONLY | os.O_CREAT, 0o644)
    os.set_inheritable(keep, True)
    results = []
    for steps, argv in [([("chdir", R), ("open", 1, "pwd", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)], ["/bin/pwd"]),
                        ([("fchdir", dirfd), ("open", 1, "copy", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)], ["/bin/cat", "inside"]),
                        ([("closefrom", 3), ("open", 1, f"{R}/closefrom", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)],
                         ["/bin/sh", "-c", f"if {{ true >&{keep}; }} 2>/dev/null; then echo open; else echo closed; fi"])]:
        actions = ctypes.create_string_buffer(256)
        libc.posix_spawn_file_actions_init(actions)
        for step in steps:
            if step[0] == "chdir":
                libc.posix_spawn_file_actions_addchdir_np(actions, step[1].encode())
            elif step[0] == "fchdir":
                libc.posix_spawn_file_actions_addfchdir_np(actions, step[1])
            elif step[0] == "closefrom":
                libc.posix_spawn_file_actions_addclosefrom_np(actions, step[1])
            else:
                libc.posix_spawn_file_actions_addopen(actions, step[1], step[2].encode(), step[3], 0o644)
        pid = ctypes.c_int()
        args = (ctypes.c_char_p * (len(argv) + 1))(*[a.encode() for a in argv], None)
        env = (ctypes.c_char_p * (len(os.environ) + 1))(*[f"{k}={v}".encode() for k, v in os.environ.items()], None)
        r = libc.posix_spawn(ctypes.byref(pid), argv[0].encode(), actions, None, args, env)
        libc.posix_spawn_file_actions_destroy(actions)
        results.append(os.strerror(r) if r else str(wait(pid.value)))
    os.close(dirfd)
    os.close(keep)
    out("chdir", *results, repr(read("pwd")), repr(read("d/copy")), repr(read("closefrom")))


def case_static():
    # A statically linked program cannot take a private descriptor over: the spawn fails instead of leaving it a
    # placeholder; without one to hand over, the same program runs.
    program = sys.argv[2]
    fd = os.open(f"{R}/static", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.set_inheritable(fd, True)
    try:
        results = [str(wait(os.posix_spawn(program, [program, str(fd)], os.environ)))]
    except OSError as e:
        results = [os.strerror(e.errno)]
    os.set_inheritable(fd, False)
    results.append(str(wait(os.posix_spawn(program, [program, "1"], os.environ))))
    os.close(fd)
    out("static", *results, repr(read("static")))


def case_legacy():
    # On a legacy mount the kernel opens the same file: a static program gets a kernel descriptor of it, at the
    # position the parent's descriptor had.
    program = sys.argv[2]
    fd = os.open(f"{R}/static", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, b"parent first\n")
    os.set_inheritable(fd, True)
    code = wait(os.posix_spawn(program, [program, str(fd)], os.environ))
    os.close(fd)
    out("legacy", code, repr(read("static")))


globals()["case_" + sys.argv[1]]()
