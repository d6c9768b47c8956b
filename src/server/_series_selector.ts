/**
 * The `match[]` parameter of the Prometheus HTTP API: a series selector
 * parsed with the PromQL grammar, as Prometheus 2.42 parses it. Apart from
 * `_prometheus_api.ts` because it loads the parser (`@lezer/lr`, which
 * reads the environment as it loads: on Deno, `--allow-env`), which the
 * query routes load at their first request.
 *
 * @module
 */
import type { LabelMatcher, MatchType } from "../history/types.ts";
import { PROMQL_PARSER } from "../history/promql/lezer_parser.ts";
import { compileAnchored, type PromRegex } from "../history/promql/regex.ts";
import { PromApiError, unquoteString } from "./_prometheus_api.ts";

type SyntaxNode = NonNullable<
  ReturnType<typeof PROMQL_PARSER.parse>["topNode"]["firstChild"]
>;

/**
 * Parses a series selector (a `match[]` parameter: `up`,
 * `up{job="a"}`, `{__name__=~"weir_.*"}`) into matchers, with
 * Prometheus's rules: at least one matcher that does not match the empty
 * string, and regular expressions that compile. Throws a bad_data
 * {@linkcode PromApiError} naming the problem.
 */
export function parseSeriesSelector(text: string): LabelMatcher[] {
  const tree = PROMQL_PARSER.parse(text);
  // A `# comment` runs to the end of its line, anywhere in a selector.
  const skipComments = (n: SyntaxNode | null) => {
    while (n !== null && n.name === "LineComment") n = n.nextSibling;
    return n;
  };
  const root = skipComments(tree.topNode.firstChild);
  const fail = (why: string): never => {
    throw new PromApiError(
      "bad_data",
      `invalid parameter "match[]": cannot parse ${
        JSON.stringify(text)
      }: ${why}`,
    );
  };
  let error: number | undefined;
  tree.iterate({
    enter(n) {
      if (n.type.isError && error === undefined) error = n.from;
    },
  });
  if (error !== undefined) {
    fail(`parse error at character ${error + 1}`);
  }
  if (
    root === null || root.name !== "VectorSelector" ||
    skipComments(root.nextSibling) !== null
  ) {
    fail("a series selector is a metric name and/or {label matchers}");
  }
  const matchers: LabelMatcher[] = [];
  const src = (n: SyntaxNode) => text.slice(n.from, n.to);
  for (let n = root!.firstChild; n !== null; n = n.nextSibling) {
    if (n.name === "Identifier") {
      // 2.42 reads `atan2` as the operator, even here.
      if (src(n).toLowerCase() === "atan2") fail(`unexpected <op:${src(n)}>`);
      matchers.push({ name: "__name__", type: "=", value: src(n) });
    } else if (n.name === "LineComment") {
      continue;
    } else if (n.name === "LabelMatchers") {
      for (let m = n.firstChild; m !== null; m = m.nextSibling) {
        // `{"name"}` and `{"label"="x"}` (quoted, UTF-8 names) are
        // Prometheus 3's: 2.42 refuses them, as the query parser does.
        const quoted = m.name === "QuotedLabelName"
          ? m
          : m.getChild("QuotedLabelName");
        if (quoted !== null) {
          fail(
            `unexpected string ${
              src(quoted)
            } in label matching, expected identifier or "}"`,
          );
        } else if (m.name === "UnquotedLabelMatcher") {
          const nameNode = m.getChild("LabelName");
          const op = m.getChild("MatchOp");
          const value = m.getChild("StringLiteral");
          if (nameNode === null || op === null || value === null) {
            fail(`incomplete label matcher ${src(m)}`);
          }
          matchers.push({
            name: src(nameNode!),
            type: src(op!) as MatchType,
            value: unquoteString(src(value!)),
          });
        }
      }
    } else {
      fail(`unexpected ${n.name} in a series selector`);
    }
  }
  let nonEmpty = false;
  for (const m of matchers) {
    let matchesEmpty: boolean;
    if (m.type === "=~" || m.type === "!~") {
      let re: PromRegex;
      try {
        re = compileAnchored(m.value);
      } catch (e) {
        return fail(
          `invalid regular expression ${JSON.stringify(m.value)} for label ${
            JSON.stringify(m.name)
          }: ${(e as Error).message}`,
        );
      }
      matchesEmpty = re.test("") === (m.type === "=~");
    } else {
      matchesEmpty = (m.value === "") === (m.type === "=");
    }
    if (!matchesEmpty) nonEmpty = true;
  }
  if (!nonEmpty) {
    fail(
      "vector selector must contain at least one non-empty matcher",
    );
  }
  return matchers;
}
