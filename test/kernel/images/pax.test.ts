/** Tests of the PAX record parser. */
import { expect, test } from "bun:test";
import { parsePaxRecords } from "../../../kernel/images/pax.ts";

const encode = (text: string) => new TextEncoder().encode(text);

test("records with UTF-8 values, '=' in values and NUL padding: values keep their exact bytes", () => {
  const path = "path=dé/a=b\n";
  const record = `${new TextEncoder().encode(path).length + 3} ${path}`;
  const records = parsePaxRecords(encode(`${record}19 linkpath=target\n\0\0\0`));
  // A byte string (names.ts): "é" is its two UTF-8 bytes.
  expect(records).toEqual(new Map([["path", "d\xc3\xa9/a=b"], ["linkpath", "target"]]));
});

test("hdrcharset=BINARY values that are not UTF-8 keep their bytes", () => {
  const data = new Uint8Array([...encode("12 path=a"), 0xff, 0xfe, 0x0a]);
  expect(parsePaxRecords(data)).toEqual(new Map([["path", "a\xff\xfe"]]));
});
test("a length past the data or without a final newline is refused", () => {
  expect(parsePaxRecords(encode("99 path=x\n"))).toContain("malformed PAX record at byte 0");
  expect(parsePaxRecords(encode("10 path=xy\n"))).toContain("malformed PAX record");
  expect(parsePaxRecords(encode("7 path\n"))).toContain('without "key=value"');
});
