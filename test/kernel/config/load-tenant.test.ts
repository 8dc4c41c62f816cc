/** @module load-tenant.test — every way a single tenant file can be wrong, through loadTenantFile. */
import { describe, expect, test } from "bun:test";
import { loadTenantFile } from "../../../kernel/config/index.ts";
import { expectIssue, hostAt, issuesOf, NO_DEFAULTS, tenantToml, useTempDir } from "./fixture.ts";

const tmp = useTempDir();

/** Writes tenants/<file> and loads it, expecting a ConfigError; returns [issues, file]. */
function failing(text: string, file = "alpha.toml") {
  const path = tmp.write(`tenants/${file}`, text);
  return [issuesOf(() => loadTenantFile(path, hostAt(tmp.dir()), NO_DEFAULTS)), path] as const;
}

describe("loadTenantFile: reading", () => {
  test("a valid file loads", () => {
    const file = tmp.write("tenants/alpha.toml", tenantToml("alpha"));
    expect(loadTenantFile(file, hostAt(tmp.dir()), NO_DEFAULTS).name).toBe("alpha");
  });

  test("a missing file is an issue on the whole file", () => {
    const file = `${tmp.dir()}/tenants/ghost.toml`;
    const issues = issuesOf(() => loadTenantFile(file, hostAt(tmp.dir()), NO_DEFAULTS));
    expectIssue(issues, file, "", "no such file");
  });

  test("a TOML syntax error gives file:line:column", () => {
    const [issues, file] = failing('name = "alpha"\ncpus = [0]\nmemory = 1GiB\n');
    const issue = expectIssue(issues, file, "", "Unexpected character");
    expect(issue.line).toBe(3);
    expect(issue.column).toBe(11);
    expect(issue.message).toStartWith(`${file}:3:11: expected valid TOML`);
  });

  test("a syntax error inside a multi-line array is placed on its own line", () => {
    const [issues, file] = failing('name = "alpha"\ncpus = [0,\n  foo bar\n]\n');
    const issue = expectIssue(issues, file, "", "foo");
    expect([issue.line, issue.column]).toEqual([3, 3]);
  });
});

describe("loadTenantFile: fields", () => {
  test("unknown field (a typo) is an error with a suggestion", () => {
    const [issues, file] = failing(tenantToml("alpha", "[cache]\nsise = \"1GiB\""));
    const issue = expectIssue(issues, file, "cache.sise", 'unknown field "sise"');
    expect(issue.found).toContain('did you mean "size"');
    expect(issue.expected).toContain("blockSize");
  });

  test("unknown top-level field", () => {
    const [issues, file] = failing(`cpuz = [1]\n${tenantToml("alpha")}`);
    expectIssue(issues, file, "cpuz", 'unknown field "cpuz"');
  });

  test("unknown field inside the backend", () => {
    const [issues, file] = failing('name = "alpha"\ncpus = [0]\nbackend = { kind = "local", root = "x", rooot = "y" }\n');
    expectIssue(issues, file, "backend.rooot", 'unknown field "rooot"');
  });

  test("wrong type", () => {
    const [issues, file] = failing(tenantToml("alpha", "shareCpus = \"yes\""));
    const issue = expectIssue(issues, file, "shareCpus", '"yes"');
    expect(issue.expected).toBe("true or false");
  });

  test("wrong type for a table", () => {
    const [issues, file] = failing(tenantToml("alpha", "cache = 5"));
    expectIssue(issues, file, "cache", "5");
  });

  test("missing required field", () => {
    const [issues, file] = failing('name = "alpha"\nbackend = { kind = "local", root = "x" }\n');
    const issue = expectIssue(issues, file, "cpus", "nothing");
    expect(issue.expected).toContain("required");
  });

  test("bad backend kind", () => {
    const [issues, file] = failing('name = "alpha"\ncpus = [0]\nbackend = { kind = "nfs", root = "x" }\n');
    expectIssue(issues, file, "backend.kind", '"nfs"');
  });

  test("bad size string", () => {
    const [issues, file] = failing(tenantToml("alpha", 'memory = "12QB"'));
    const issue = expectIssue(issues, file, "memory", '"12QB"');
    expect(issue.expected).toContain("size");
  });

  test("uid: root and fractions are refused", () => {
    const [issues, file] = failing(tenantToml("alpha", "uid = 0\ngid = 1.5"));
    expect(expectIssue(issues, file, "uid", "0").expected).toContain("other than root");
    expectIssue(issues, file, "gid", "1.5");
  });

  test("negative and fractional sizes", () => {
    const [issues, file] = failing(tenantToml("alpha", "memory = -5\n[cache]\nsize = 1.5"));
    expectIssue(issues, file, "memory", "-5");
    expectIssue(issues, file, "cache.size", "1.5");
  });

  test("bad tenant name", () => {
    const [issues, file] = failing(tenantToml("Alpha_1"), "Alpha_1.toml");
    const issue = expectIssue(issues, file, "name", '"Alpha_1"');
    expect(issue.expected).toContain("tenant name");
  });

  test("name differs from the file name", () => {
    const [issues, file] = failing(tenantToml("beta"), "alpha.toml");
    const issue = expectIssue(issues, file, "name", '"beta"');
    expect(issue.expected).toContain('"alpha"');
  });

  test("cpus empty", () => {
    const [issues, file] = failing(tenantToml("alpha", "", "[]"));
    expectIssue(issues, file, "cpus", "[]");
  });

  test("cpus negative", () => {
    const [issues, file] = failing(tenantToml("alpha", "", "[0, -1]"));
    expectIssue(issues, file, "cpus[1]", "-1");
  });

  test("cpus not an integer", () => {
    const [issues, file] = failing(tenantToml("alpha", "", "[1.5]"));
    expectIssue(issues, file, "cpus[0]", "1.5");
  });

  test("cpus not a list", () => {
    const [issues, file] = failing(tenantToml("alpha", "", '"0-3"'));
    expectIssue(issues, file, "cpus", '"0-3"');
  });
});

describe("loadTenantFile: mounts", () => {
  const mount = (body: string) => tenantToml("alpha", `[[mounts]]\n${body}`);

  test("both source and upper", () => {
    const [issues, file] = failing(mount('path = "/mnt/a"\nsource = "a"\nupper = "b"'));
    expectIssue(issues, file, "mounts[0]", 'both source = "a" and upper = "b"');
  });

  test("lowers without upper", () => {
    const [issues, file] = failing(mount('path = "/mnt/a"\nlowers = ["l1", "l2"]'));
    expectIssue(issues, file, "mounts[0]", "lowers without upper");
  });

  test("renameDir: only \"copy-up\" or \"exdev\", only on a union mount, and passed on as set", () => {
    const [bad, file] = failing(mount('path = "/mnt/a"\nupper = "u"\nlowers = ["l"]\nrenameDir = "redirect"'));
    expectIssue(bad, file, "mounts[0].renameDir", '"redirect"');
    const [direct] = failing(mount('path = "/mnt/a"\nsource = "s"\nrenameDir = "exdev"'));
    expectIssue(direct, file, "mounts[0]", 'renameDir = "exdev" with source');
    const path = tmp.write("tenants/alpha.toml", `${mount('path = "/mnt/a"\nupper = "u"\nlowers = ["l"]\nrenameDir = "exdev"')}\n[[mounts]]\npath = "/mnt/b"\nupper = "v"\nlowers = ["l"]`);
    const mounts = loadTenantFile(path, hostAt(tmp.dir()), NO_DEFAULTS).mounts;
    expect(mounts.map((m) => (m.kind === "union" ? m.renameDir : "direct"))).toEqual(["exdev", undefined]);
  });

  test("neither source nor branches", () => {
    const [issues, file] = failing(mount('path = "/mnt/a"'));
    expectIssue(issues, file, "mounts[0]", "neither");
  });

  test("relative mount path", () => {
    const [issues, file] = failing(mount('path = "mnt/a"\nsource = ""'));
    const issue = expectIssue(issues, file, "mounts[0].path", '"mnt/a"');
    expect(issue.expected).toContain("absolute");
  });

  test("'..' in the mount path", () => {
    const [issues, file] = failing(mount('path = "/mnt/../etc"\nsource = ""'));
    expectIssue(issues, file, "mounts[0].path", '"/mnt/../etc"');
  });

  test("'..' in a backend path", () => {
    const [issues, file] = failing(`${mount('path = "/mnt/a"\nsource = "../other"')}\n[[mounts]]\npath = "/mnt/b"\nupper = "u"\nlowers = ["ok", "x/../../y"]`);
    expectIssue(issues, file, "mounts[0].source", '"../other"');
    expectIssue(issues, file, "mounts[1].lowers[1]", '"x/../../y"');
  });

  test("'..' in the local backend root", () => {
    const [issues, file] = failing('name = "alpha"\ncpus = [0]\nbackend = { kind = "local", root = "../elsewhere" }\n');
    expectIssue(issues, file, "backend.root", '"../elsewhere"');
  });

  test("duplicate mount within the tenant", () => {
    const [issues, file] = failing(`${mount('path = "/mnt/a"\nsource = "x"')}\n[[mounts]]\npath = "/mnt/a/"\nsource = "y"`);
    const issue = expectIssue(issues, file, "mounts[1].path", '"/mnt/a"');
    expect(issue.found).toContain("duplicate of mounts[0].path");
  });

  test("nested mounts within the tenant", () => {
    const [issues, file] = failing(`${mount('path = "/mnt/a/b"\nsource = "x"')}\n[[mounts]]\npath = "/mnt/a"\nsource = "y"`);
    const issue = expectIssue(issues, file, "mounts[1].path", '"/mnt/a"');
    expect(issue.found).toContain("nested with mounts[0].path");
  });

  test("an empty mounts list", () => {
    const [issues, file] = failing(tenantToml("alpha", "mounts = []"));
    expectIssue(issues, file, "mounts", "[]");
  });
});

describe("loadTenantFile: cache", () => {
  test("cache.size larger than memory", () => {
    const [issues, file] = failing(tenantToml("alpha", 'memory = "1GiB"\n[cache]\nsize = "2GiB"'));
    const issue = expectIssue(issues, file, "cache.size", "2GiB");
    expect(issue.expected).toContain("1GiB");
  });

  test("maxDirty larger than cache.size", () => {
    const [issues, file] = failing(tenantToml("alpha", '[cache]\nsize = "256MiB"\nmaxDirty = "300MiB"'));
    const issue = expectIssue(issues, file, "cache.maxDirty", "300MiB");
    expect(issue.expected).toContain("256MiB");
  });

  test("maxDirty larger than the built-in cache size names where the size came from", () => {
    const [issues, file] = failing(tenantToml("alpha", '[cache]\nmaxDirty = "768MiB"'));
    const issue = expectIssue(issues, file, "cache.maxDirty", "768MiB");
    expect(issue.expected).toContain("512MiB (built-in default)");
  });

  test("blockSize not a power of two", () => {
    const [issues, file] = failing(tenantToml("alpha", "[cache]\nblockSize = 5000"));
    const issue = expectIssue(issues, file, "cache.blockSize", "5000 bytes");
    expect(issue.expected).toContain("power of two");
  });

  test("blockSize out of range", () => {
    const [small, file] = failing(tenantToml("alpha", '[cache]\nblockSize = "2KiB"'));
    expectIssue(small, file, "cache.blockSize", "2KiB");
    const [large] = failing(tenantToml("alpha", '[cache]\nblockSize = "32MiB"'));
    expectIssue(large, file, "cache.blockSize", "32MiB");
  });

  test("bad writeback mode and non-integer milliseconds", () => {
    const [issues, file] = failing(tenantToml("alpha", '[cache]\nwriteback = "lazy"\nwritebackMs = 0.5'));
    expectIssue(issues, file, "cache.writeback", '"lazy"');
    expectIssue(issues, file, "cache.writebackMs", "0.5");
  });
});

describe("loadTenantFile: restart and topology", () => {
  test("bad restart strategy", () => {
    const [issues, file] = failing(tenantToml("alpha", '[restart]\nstrategy = "one_for_none"'));
    const issue = expectIssue(issues, file, "restart.strategy", '"one_for_none"');
    expect(issue.expected).toContain("one_for_one");
  });

  test("bad restart type of a service", () => {
    const [issues, file] = failing(tenantToml("alpha", '[restart.services]\nunion = "sometimes"'));
    const issue = expectIssue(issues, file, "restart.services.union", '"sometimes"');
    expect(issue.expected).toContain("transient");
  });

  test("restart type for an unknown service", () => {
    const [issues, file] = failing(tenantToml("alpha", '[restart.services]\nunoin = "temporary"'));
    expectIssue(issues, file, "restart.services.unoin", 'did you mean "union"');
  });

  test("backoff base above the cap", () => {
    const [issues, file] = failing(tenantToml("alpha", "[restart]\nbackoffBaseMs = 500\nbackoffCapMs = 200"));
    const issue = expectIssue(issues, file, "restart.backoffBaseMs", "500");
    expect(issue.expected).toContain("200");
  });

  test("negative intensity", () => {
    const [issues, file] = failing(tenantToml("alpha", "[restart]\nintensity = -1"));
    expectIssue(issues, file, "restart.intensity", "-1");
  });

  test("topology with an unknown service", () => {
    const [issues, file] = failing(tenantToml("alpha", 'topology = [["client-cache", "union"], ["ipc-routr"]]'));
    expectIssue(issues, file, "topology[1][0]", '"ipc-routr"');
  });

  test("topology with a duplicate service", () => {
    const [issues, file] = failing(tenantToml("alpha", 'topology = [["client-cache", "union"], ["union", "ipc-router"]]'));
    expectIssue(issues, file, "topology", '"union" twice');
  });

  test("topology missing a service", () => {
    const [issues, file] = failing(tenantToml("alpha", 'topology = [["client-cache"], ["ipc-router"]]'));
    const issue = expectIssue(issues, file, "topology", '[["client-cache"], ["ipc-router"]]');
    expect(issue.expected).toContain('missing "union"');
  });

  test("topology without fuse-legacy when a mount is legacy", () => {
    const [issues, file] = failing(
      tenantToml("alpha", 'topology = [["client-cache", "union", "ipc-router"]]\n[[mounts]]\npath = "/mnt/a"\nsource = ""\nlegacy = true'),
    );
    const issue = expectIssue(issues, file, "topology", "client-cache");
    expect(issue.expected).toContain("mounts[0] has legacy = true");
  });

  test("an empty process group", () => {
    const [issues, file] = failing(tenantToml("alpha", 'topology = [["client-cache", "union", "ipc-router"], []]'));
    expectIssue(issues, file, "topology[1]", "[]");
  });

  test("every issue of a file is reported at once", () => {
    const [issues] = failing(tenantToml("alpha", 'memory = "lots"\nshareCpus = 1\n[fuse]\ndirectIo = "no"'));
    expect(issues.map((i) => i.path).sort()).toEqual(["fuse.directIo", "memory", "shareCpus"]);
  });
});
