import { describe, expect, it } from "vitest";
import { csvNumber, csvRow, csvText } from "./csv";

describe("csv cells", () => {
  it("quotes commas, quotes and line breaks", () => {
    expect(csvText("plain")).toBe("plain");
    expect(csvText("a,b")).toBe('"a,b"');
    expect(csvText('say "hi"')).toBe('"say ""hi"""');
    expect(csvText("two\nlines")).toBe('"two\nlines"');
    expect(csvText(null)).toBe("");
  });

  it("neutralises formulas in text cells", () => {
    expect(csvText("=HYPERLINK(\"http://evil\")")).toBe("\"'=HYPERLINK(\"\"http://evil\"\")\"");
    expect(csvText("+1+1")).toBe("'+1+1");
    expect(csvText("-2+3")).toBe("'-2+3");
    expect(csvText("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvText("\t=1")).toBe("'\t=1");
    expect(csvText("Top-up = fine")).toBe("Top-up = fine");
  });

  it("numbers stay numbers", () => {
    expect(csvNumber(-100)).toBe("-100");
    expect(() => csvNumber(NaN)).toThrow();
    expect(csvRow(["a", "1"])).toBe("a,1\r\n");
  });
});
