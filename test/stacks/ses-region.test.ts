import { describe, expect, it } from "vitest";
import { evaluateProgram } from "../harness/fresh-program";

describe("the SES domain's DKIM records need a region alertline knows", () => {
    it("fails the dev stack in a region without a known Easy DKIM domain, naming the region and where to look it up", async () => {
        await expect(evaluateProgram("dev", { "aws:region": "xx-nowhere-1" })).rejects.toThrow(
            /DKIM domain of region "xx-nowhere-1" \(aws:region\).*docs\.aws\.amazon\.com\/general\/latest\/gr\/ses\.html#ses_dkim_domains/,
        );
    }, 120_000); // a whole-program evaluation: about 11 s alone, more on a busy machine
});
