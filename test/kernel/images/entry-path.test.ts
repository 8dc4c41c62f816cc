/** Tests of layerPath: entry paths made layer-relative, and ".." refused. */
import { expect, test } from "bun:test";
import { layerPath } from "../../../kernel/images/entry-path.ts";

test("leading ./ and /, doubled and trailing slashes go; the root is empty", () => {
  expect(layerPath("./usr//bin/")).toBe("usr/bin");
  expect(layerPath("/etc/passwd")).toBe("etc/passwd");
  expect(layerPath("./")).toBe("");
  expect(layerPath(".wh..wh..opq")).toBe(".wh..wh..opq");
});
test("any .. part is refused", () => {
  expect(layerPath("../x")).toBeNull();
  expect(layerPath("a/../../x")).toBeNull();
  expect(layerPath("a/..")).toBeNull();
});
