/**
 * The JSONata compiler: from the AST the `jsonata` package parses
 * (`jsonata(text).ast()`) to a synchronous JavaScript closure per node.
 *
 * Each closure does what the package's asynchronous interpreter
 * (src/jsonata.js of jsonata 2.2.2, © Copyright IBM Corp. 2016, 2017, MIT
 * licence) does for that node, in the same order, with the same sequence
 * rules (flattening, singleton unwrapping, `[]` keeping arrays, undefined
 * vs null) and the same errors; the function names below follow the
 * package's (`evaluatePath`, `evaluateStep`, ...) so the two can be read
 * side by side: paths and predicates, focus, index and parent binding
 * (`@`, `#`, `%`, as tuple streams), order-by, grouping, operators,
 * conditionals, blocks and bindings, lambdas with tail calls, partial
 * application, `~>`, transforms, regular expressions, the standard
 * functions and `$eval` (compiled at run time). What it refuses (see
 * `_check`) is refused at compile time with a reason: the caller then uses
 * the package for that expression.
 *
 * Budgets (issue 18): compiled with `guarded`, every node evaluation counts
 * its depth (as the package's `stack` option does) and every 64th checks
 * the clock; see {@linkcode _RunState} and `_guard`. Unguarded closures pay
 * nothing for it.
 *
 * This file is longer than 800 lines because it is one evaluator: the node
 * kinds call each other (paths hold predicates that hold paths, functions
 * hold lambdas that hold paths), and splitting them would scatter the one
 * set of sequence rules they share. What needs none of that is apart:
 * values and sequences (_values.ts), operators and lookups
 * (_operators.ts), the standard functions (_builtins.ts). The function
 * application machinery (`_apply` and its kin, about 250 lines) could
 * move out next, with the frame and lambda types.
 *
 * @module
 */
import {
  _items,
  _work,
  _workFor,
  _workOn,
  MAX_EVAL_TEXT,
  MAX_ITEMS,
} from "./_growth.ts";
import jsonata from "jsonata";
import {
  _Bail,
  _builtins,
  _DEADLINE,
  type _Focus,
  _fromMillis,
  type _FunctionDef,
  _handsOver,
  _mergeSort,
  _ownSignatures,
  type _Signature,
  _toBoolean,
} from "./_builtins.ts";
import { _populateMessage } from "./_error_messages.ts";
import { LinearRegExp } from "./linear_regexp.ts";
import {
  _append,
  _binaryOps,
  _boolize,
  _descendants,
  _flatten,
  _hasOwn,
  _isArrayOfNumbers,
  _isArrayOfStrings,
  _lookup,
} from "./_operators.ts";
import { toPlain } from "./to_plain.ts";
import {
  _createSequence,
  _error,
  _functionArity,
  _isFunction,
  _isNumeric,
  _isSequence,
  _keys,
  _readClock,
  type _Rec,
  type _Seq,
} from "./_values.ts";

/** A node of the `jsonata` package's AST (the fields the compiler reads). */
interface Node {
  type: string;
  value?: unknown;
  position?: number;
  steps?: Node[];
  stages?: { type: string; expr: Node; value?: unknown }[];
  predicate?: { type: string; expr: Node }[];
  group?: Group;
  lhs?: unknown;
  rhs?: Node;
  expression?: Node;
  expressions?: Node[];
  condition?: Node;
  then?: Node;
  else?: Node;
  procedure?: Node;
  arguments?: Node[];
  body?: Node;
  signature?: _Signature;
  thunk?: boolean;
  keepArray?: boolean;
  keepSingletonArray?: boolean;
  consarray?: boolean;
  terms?: { descending: boolean; expression: Node }[];
  tuple?: boolean;
  focus?: string;
  index?: string;
  ancestor?: { label: string };
  slot?: { label: string };
}

interface Group {
  lhs: [Node, Node][];
  position?: number;
}

/**
 * The state of one evaluation: the timestamp `$now()` and `$millis()`
 * share, and the budget (issue 18): `depth` counts nested node
 * evaluations when compiled `guarded`, `maxDepth` and `deadline`
 * (`Date.now()` ms) bound it. A budget exceeded throws JSONata's D1011
 * (depth) or D1012 (time), as the package's `stack`/`timeout` options do.
 */
export interface _RunState {
  timestamp: number | undefined;
  depth: number;
  maxDepth: number;
  deadline: number;
  ticks: number;
  timeout: number;
}

/** A scope of variables, as the package's frames. */
class Frame {
  /** Made at the first binding: most frames (and evaluations) bind none. */
  vars: _Rec | undefined = undefined;
  /** The input of the evaluation, `$$`, held by its outermost frame. */
  root = false;
  input: unknown = undefined;
  constructor(readonly parent: Frame | undefined, readonly run: _RunState) {}
  lookup(name: string): unknown {
    if (this.root && name === "$") return this.input;
    const vars = this.vars;
    if (vars !== undefined && name in vars) return vars[name];
    return this.parent?.lookup(name);
  }
  bind(name: string, value: unknown): void {
    (this.vars ??= Object.create(null) as _Rec)[name] = value;
  }
  /** The evaluation's time, as `$toMillis` reads it from the package's frames. */
  get timestamp(): Date {
    return new Date(_timestamp(this));
  }
}

type Fn = (input: unknown, env: Frame) => unknown;

/** A lambda value, shaped as the package's (`_jsonata_lambda`). */
interface Lambda {
  _jsonata_lambda: true;
  input: unknown;
  environment: Frame;
  arguments: Node[];
  signature?: _Signature;
  body: Node | ((...args: unknown[]) => unknown);
  thunk?: boolean;
  /** The compiled body (a thunk's: its call's procedure and arguments). */
  _fn?: Fn;
  /** A partially applied JavaScript function and its parameter names. */
  _native?: (this: _Focus, ...args: unknown[]) => unknown;
  _nativeArgs?: string[];
  _proc?: Fn;
  _args?: Fn[];
  token?: unknown;
  position?: unknown;
  /** As the package's: `f.apply(self, args)`, e.g. a matcher's `next`. */
  apply?: typeof _lambdaApply;
}

function _lambdaApply(
  this: Lambda,
  self: unknown,
  args: unknown[],
): unknown {
  const env = self !== null && typeof self === "object" &&
      (self as _Rec).environment instanceof Frame
    ? (self as _Rec).environment as Frame
    : this.environment;
  return _apply(this, args, this.input, env);
}

/** Thrown at compile time for what the compiler leaves to the package. */
export class _Unsupported extends Error {
  /**
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { _Unsupported } from "./_compile_ast.ts";
   *
   * assert.equal(new _Unsupported("regular expressions").name, "_Unsupported");
   * ```
   */
  constructor(what: string) {
    super(`not compiled: ${what}`);
    this.name = "_Unsupported";
  }
}

const _static = new Frame(undefined, undefined as unknown as _RunState);
{
  const defs = _builtins();
  for (const name of Object.keys(defs)) _static.bind(name, defs[name]);
  _static.bind("now", {
    _jsonata_function: true,
    implementation(this: _Focus, picture: unknown, timezone: unknown) {
      return _fromMillis.call(
        this,
        _timestamp(this.environment as Frame),
        picture,
        timezone,
      );
    },
    signature: _ownSignatures.now,
  } as _FunctionDef);
  _static.bind("millis", {
    _jsonata_function: true,
    implementation(this: _Focus) {
      return _timestamp(this.environment as Frame);
    },
    signature: _ownSignatures.millis,
  } as _FunctionDef);
  _static.bind("eval", {
    _jsonata_function: true,
    implementation: _functionEval,
    signature: _ownSignatures.eval,
  } as _FunctionDef);
}

/** Compiled `$eval` texts, the latest first out when full. */
const _evalCache = new Map<string, Fn>();

/**
 * The package's `functionEval` (`$eval(text, context)`): the text parsed
 * by the package and compiled here, guarded (once per text, the last 64
 * kept), run in the caller's scope and budget. A syntax error is D3120, a failure D3121, as the
 * package's; a text the compiler leaves alone, an asynchronous function or
 * a stack overflow hands the whole evaluation over to the package.
 */
function _functionEval(this: _Focus, expr: unknown, focus: unknown): unknown {
  if (expr === undefined) return undefined;
  let input = this.input;
  if (focus !== undefined) {
    input = focus;
    if (Array.isArray(input) && !_isSequence(input)) {
      const wrapped = _createSequence(input);
      wrapped.outerWrapper = true;
      input = wrapped;
    }
  }
  const text = expr as string;
  let f = _evalCache.get(text);
  if (f === undefined) {
    if (text.length > MAX_EVAL_TEXT) {
      throw new RangeError(
        `$eval was given a text of ${
          text.length.toLocaleString("en-US")
        } characters, more than the ${
          MAX_EVAL_TEXT.toLocaleString("en-US")
        } an expression may evaluate`,
      );
    }
    let ast: unknown;
    try {
      ast = jsonata(text).ast();
    } catch (err) {
      throw _error("D3120", {
        value: (err as _Rec).message,
        error: err,
      });
    }
    try {
      _check(ast);
    } catch (err) {
      if (err instanceof _Unsupported) throw new _Bail(err.message);
      throw err;
    }
    // Guarded whatever the caller: the text is the expression's to run
    // within its budget (unguarded, a loop in it never ended). An
    // evaluation without a budget has an infinite one.
    f = new _Compiler(true).node(ast as Node);
    if (_evalCache.size >= 64) {
      _evalCache.delete(_evalCache.keys().next().value as string);
    }
    _evalCache.set(text, f);
  }
  try {
    return f(input, this.environment as Frame);
  } catch (err) {
    if (_handsOver(err)) throw err;
    if (err !== null && typeof err === "object") _populateMessage(err as _Rec);
    throw _error("D3121", {
      value: (err as _Rec | null)?.message,
      error: err,
    });
  }
}

/** One evaluation's time: taken at its first use, then the same for all. */
function _timestamp(env: Frame): number {
  const run = env.run;
  if (run.timestamp === undefined) run.timestamp = Date.now();
  return run.timestamp;
}

/**
 * A step's budget: its depth, and every 64th step (and every
 * `WORK_PER_LOOK` items of work inside steps, see _growth.ts) the clock,
 * which starts at the first look (so an evaluation of fewer steps never
 * reads it; the first 63 steps are not timed); past the deadline the
 * evaluation fails with D1012.
 */
function _guard(run: _RunState): void {
  if (run.depth > run.maxDepth) {
    throw _error("D1011", { value: run.maxDepth });
  }
  if ((++run.ticks & 63) === 0) _readClock(run);
}

function _isLambda(x: unknown): x is Lambda {
  return x !== null && typeof x === "object" &&
    (x as _Rec)._jsonata_lambda === true;
}

function _setPosition(err: unknown, position: unknown, token: unknown): void {
  if (err !== null && typeof err === "object") {
    (err as _Rec).position = position;
    (err as _Rec).token = token;
  }
}

/** Options of {@linkcode _compileAst}. */
export interface _CompileOptions {
  /**
   * Count the depth of every node evaluation and check the clock every 64
   * nodes (the budget hook of issue 18). Default false: no counting.
   */
  guarded?: boolean;
}

/** A compiled expression: call it with an input, bindings and a budget. */
export type _Compiled = (
  input: unknown,
  bindings?: _Rec,
  budget?: { maxDepth?: number; timeoutMs?: number },
) => unknown;

/**
 * Refuses, before compiling, what only the package evaluates: `$eval`, and
 * a `:=` binding in an item of an array constructor or a value of an
 * object constructor outside a block or lambda. The package evaluates
 * those items concurrently (`Promise.all`), so whether a sibling sees the
 * binding depends on how its awaits interleave (`[$x := 1, $x]` gives
 * `[1]`); the compiled path evaluates them in order and would give
 * `[1, 1]`.
 */
function _check(node: unknown, concurrent = false): void {
  if (node === null || typeof node !== "object") return;
  if (Array.isArray(node)) {
    for (const n of node) _check(n, concurrent);
    return;
  }
  const n = node as _Rec;
  switch (n.type) {
    case "bind":
      if (concurrent) {
        throw new _Unsupported(
          "a := binding in an item of an array or object constructor",
        );
      }
      break;
    case "block":
    case "lambda":
      concurrent = false;
  }
  for (const key of Object.keys(n)) {
    // Slots and ancestors point back into the tree (the parent operator).
    if (
      key === "signature" || key === "slot" || key === "ancestor" ||
      key === "seekingParent"
    ) continue;
    const v = n[key];
    if (v === null || typeof v !== "object") continue;
    if (key === "expressions" && n.type === "unary" && n.value === "[") {
      _check(v, concurrent || (v as unknown[]).length > 1);
    } else if (
      key === "lhs" && Array.isArray(v) &&
      (n.type === "unary" || n.group !== undefined || "lhs" in n)
    ) {
      // Object constructor and group pairs: keys in order, values at once.
      for (const pair of v as unknown[]) {
        if (Array.isArray(pair) && pair.length === 2) {
          _check(pair[0], concurrent);
          _check(pair[1], true);
        } else _check(pair, concurrent);
      }
    } else _check(v, concurrent);
  }
}

/**
 * Compiles a `jsonata` AST to a synchronous evaluator with the package's
 * answers and errors, or throws {@linkcode _Unsupported} naming what it
 * leaves to the package.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import jsonata from "jsonata";
 * import { _compileAst } from "./_compile_ast.ts";
 *
 * const run = _compileAst(jsonata("items[price > 1].name").ast());
 * const input = { items: [{ name: "a", price: 1 }, { name: "b", price: 2 }] };
 * assert.equal(run(input), "b");
 * ```
 */
export function _compileAst(
  ast: unknown,
  options: _CompileOptions = {},
): _Compiled {
  _check(ast);
  const compiler = new _Compiler(options.guarded === true);
  let root = compiler.node(ast as Node);
  const plain = compiler.plainObject(ast as Node, root);
  if (plain !== undefined) root = plain;
  return (input, bindings, budget) => {
    const run: _RunState = {
      timestamp: undefined,
      depth: 0,
      maxDepth: Infinity,
      deadline: Infinity,
      ticks: 0,
      timeout: 0,
    };
    if (budget !== undefined) {
      run.maxDepth = budget.maxDepth ?? Infinity;
      if (budget.timeoutMs !== undefined) {
        // Set at the first clock check (see _guard).
        run.deadline = 0;
        run.timeout = budget.timeoutMs;
      }
    }
    const env = new Frame(_static, run);
    if (bindings !== undefined) {
      for (const v of Object.keys(bindings)) env.bind(v, bindings[v]);
    }
    env.root = true;
    env.input = input;
    if (Array.isArray(input) && !_isSequence(input)) {
      const wrapped = _createSequence(input);
      wrapped.outerWrapper = true;
      input = wrapped;
    }
    // The loops inside a step count their work against this budget's
    // clock (see _growth.ts); none without a time budget.
    const outer = _workFor(run.deadline === Infinity ? undefined : run);
    try {
      return root(input, env);
    } catch (err) {
      if (_handsOver(err)) {
        // The package, which takes the evaluation over, gets what is left.
        if (run.deadline > 0 && run.deadline !== Infinity) {
          (err as { [_DEADLINE]?: number })[_DEADLINE] = run.deadline;
        }
      } else if (err !== null && typeof err === "object") {
        _populateMessage(err as _Rec);
      }
      throw err;
    } finally {
      _workFor(outer);
    }
  };
}

class _Compiler {
  constructor(readonly guarded: boolean) {}

  /** The package's `evaluate`: a node, its predicates, group, sequence rules. */
  node(expr: Node): Fn {
    let f = this.core(expr);
    if (expr.predicate !== undefined) {
      const preds = expr.predicate.map((p) => this.filter(p.expr));
      const inner = f;
      f = (input, env) => {
        let result = inner(input, env);
        for (const p of preds) result = p(result, env);
        return result;
      };
    }
    if (expr.type !== "path" && expr.group !== undefined) {
      const group = this.group(expr.group);
      const inner = f;
      f = (input, env) => group(inner(input, env), env);
    }
    const plain = expr.predicate === undefined && expr.group === undefined &&
      (expr.type === "string" || expr.type === "number" ||
        expr.type === "value" || expr.type === "lambda" ||
        (expr.type === "unary" && expr.value !== "[") ||
        (expr.type === "binary" && expr.value !== ".."));
    const keepArray = expr.keepArray === true;
    const body = f;
    const normalized: Fn = plain ? body : (input, env) => {
      let result = body(input, env);
      if (Array.isArray(result) && (result as _Seq).sequence === true) {
        const seq = result as _Seq;
        if (seq.tupleStream !== true) {
          if (keepArray) seq.keepSingleton = true;
          if (seq.length === 0) result = undefined;
          else if (seq.length === 1) {
            result = seq.keepSingleton ? seq : seq[0];
          }
        }
      }
      return result;
    };
    const head = expr.steps?.[0];
    const variable = head?.type === "variable" && head.value !== "" &&
        expr.steps!.length > 1
      ? this.node(head)
      : undefined;
    const lone = _loneName(expr, normalized, variable);
    if (!this.guarded) return lone ?? normalized;
    if (lone !== undefined) return lone;
    // A range is one step however many items it makes: it counts them as
    // work (see _growth.ts), so that a path of ranges
    // ([1..10000000].[1..10000000]) cannot build 64 of them (640 million
    // items, 3.2 GB on Deno) before the budget looks.
    return (input, env) => {
      const run = env.run;
      run.depth++;
      _guard(run);
      const result = normalized(input, env);
      run.depth--;
      return result;
    };
  }

  core(expr: Node): Fn {
    switch (expr.type) {
      case "path":
        return this.path(expr);
      case "binary":
        return this.binary(expr);
      case "unary":
        return this.unary(expr);
      case "name": {
        const key = expr.value as string;
        return (input) => _lookup(input, key);
      }
      case "string":
      case "number":
      case "value": {
        const value = expr.value;
        return () => value;
      }
      case "wildcard":
        return (input) => this.wildcard(input);
      case "descendant":
        return (input) => {
          if (input === undefined) return undefined;
          const results = _createSequence();
          _descendants(input, results);
          return results.length === 1 ? results[0] : results;
        };
      case "condition":
        return this.condition(expr);
      case "block":
        return this.block(expr);
      case "bind": {
        const name = (expr.lhs as Node).value as string;
        const rhs = this.node(expr.rhs!);
        return (input, env) => {
          const value = rhs(input, env);
          env.bind(name, value);
          return value;
        };
      }
      case "function":
        return this.func(expr);
      case "variable": {
        const name = expr.value as string;
        if (name === "") {
          return (input) =>
            input && (input as _Seq).outerWrapper ? (input as _Seq)[0] : input;
        }
        return (_input, env) => env.lookup(name);
      }
      case "lambda":
        return this.lambda(expr);
      case "regex":
        return _regex(expr);
      case "partial":
        return this.partial(expr);
      case "parent": {
        const label = expr.slot!.label;
        return (_input, env) => env.lookup(label);
      }
      case "transform":
        return this.transform(expr);
      case "apply":
        return this.applyExpr(expr);
      default:
        throw new _Unsupported(`the ${expr.type} node`);
    }
  }

  path(expr: Node): Fn {
    const steps = expr.steps!;
    const firstIsVariable = steps[0].type === "variable";
    const tupleFrom = steps.findIndex((step) => step.tuple === true);
    // Steps from the first that binds (@ # %) on run as tuple steps only.
    const compiled = steps.map((step, i) =>
      tupleFrom === -1 || i < tupleFrom
        ? this.step(step, i === steps.length - 1)
        : undefined
    );
    const tupleSteps = steps.map((step, i) =>
      tupleFrom !== -1 && i >= tupleFrom ? this.tupleStep(step) : undefined
    );
    const focused = steps.map((step) => step.focus !== undefined);
    const first = steps[0].consarray === true ? this.node(steps[0]) : undefined;
    const keepSingletonArray = expr.keepSingletonArray === true;
    const keepTuples = expr.tuple === true;
    const group = expr.group !== undefined ? this.group(expr.group) : undefined;
    return (input, env) => {
      let inputSequence: unknown[] = Array.isArray(input) && !firstIsVariable
        ? input
        : _createSequence(input);
      let resultSequence: unknown;
      let isTupleStream = false;
      let tupleBindings: _Seq | undefined;
      for (let ii = 0; ii < compiled.length; ii++) {
        if (ii === tupleFrom) isTupleStream = true;
        if (ii === 0 && first !== undefined) {
          resultSequence = first(inputSequence, env);
        } else if (isTupleStream) {
          tupleBindings = tupleSteps[ii]!(inputSequence, tupleBindings, env);
        } else {
          resultSequence = compiled[ii]!(inputSequence, env);
        }
        if (
          !isTupleStream && (resultSequence === undefined ||
            (resultSequence as unknown[]).length === 0)
        ) break;
        if (!focused[ii]) inputSequence = resultSequence as unknown[];
      }
      if (isTupleStream) {
        if (keepTuples) resultSequence = tupleBindings;
        else {
          const rs = _createSequence();
          for (const tuple of tupleBindings as _Rec[]) rs.push(tuple["@"]);
          resultSequence = rs;
        }
      }
      if (keepSingletonArray) {
        let rs = resultSequence as _Seq;
        if (Array.isArray(rs) && rs.cons && !rs.sequence) {
          rs = _createSequence(rs);
        }
        rs.keepSingleton = true;
        resultSequence = rs;
      }
      if (group !== undefined) {
        resultSequence = group(
          isTupleStream ? tupleBindings : resultSequence,
          env,
        );
      }
      return resultSequence;
    };
  }

  /** The package's `evaluateStep` for one step of a path. */
  step(
    expr: Node,
    lastStep: boolean,
  ): (input: unknown[], env: Frame) => unknown {
    if (expr.type === "sort") {
      const sort = this.sort(expr);
      const stages = this.stages(expr);
      return (input, env) => stages(sort(input, env), env);
    }
    const f = this.node(expr);
    const filters = (expr.stages ?? []).map((s) => this.filter(s.expr));
    return (input, env) => {
      const result = _createSequence();
      for (let ii = 0; ii < input.length; ii++) {
        let res = f(input[ii], env);
        for (const s of filters) res = s(res, env);
        if (res !== undefined) result.push(res);
      }
      if (
        lastStep && result.length === 1 && Array.isArray(result[0]) &&
        !_isSequence(result[0])
      ) return result[0];
      const resultSequence = _createSequence();
      for (const res of result) {
        if (!Array.isArray(res) || (res as _Seq).cons) {
          resultSequence.push(res);
        } else {
          // Each item's array joins the result: `[1..100].$x` copies $x
          // a hundred times in this one step.
          const n = resultSequence.length + res.length;
          if (n > MAX_ITEMS) _items(n, "a path step");
          _work(res.length);
          for (const val of res) resultSequence.push(val);
        }
      }
      return resultSequence;
    };
  }

  /** The package's `evaluateStages`: filters and index bindings (`#$i`). */
  stages(expr: Node): (input: unknown, env: Frame) => unknown {
    const stages = (expr.stages ?? []).map((stage) =>
      stage.type === "filter"
        ? this.filter(stage.expr)
        : stage.type === "index"
        ? ((input: unknown) => {
          const list = input as _Rec[];
          for (let ee = 0; ee < list.length; ee++) {
            list[ee][stage.value as string] = ee;
          }
          return input;
        })
        : ((input: unknown) => input)
    );
    return (input, env) => {
      let result = input;
      for (const s of stages) result = s(result, env);
      return result;
    };
  }

  /** The package's `evaluateTupleStep`: a step of a path that binds @ # %. */
  tupleStep(
    expr: Node,
  ): (input: unknown[], tupleBindings: _Seq | undefined, env: Frame) => _Seq {
    const stages = this.stages(expr);
    const focus = expr.focus;
    const index = expr.index;
    const ancestor = expr.ancestor?.label;
    if (expr.type === "sort") {
      const sort = this.sort(expr);
      return (input, tupleBindings, env) => {
        let result: unknown;
        if (tupleBindings !== undefined) {
          result = sort(tupleBindings, env);
        } else {
          const sorted = sort(input, env) as unknown[];
          const seq = _createSequence();
          seq.tupleStream = true;
          for (let ss = 0; ss < sorted.length; ss++) {
            const tuple: _Rec = { "@": sorted[ss] };
            tuple[index as string] = ss;
            seq.push(tuple);
          }
          result = seq;
        }
        return stages(result, env) as _Seq;
      };
    }
    const f = this.node(expr);
    return (input, tupleBindings, env) => {
      let result: _Seq = _createSequence();
      result.tupleStream = true;
      const bindings = tupleBindings ??
        input.map((item) => ({ "@": item }) as _Rec);
      for (const binding of bindings as _Rec[]) {
        const stepEnv = _frameFromTuple(env, binding);
        let res = f(binding["@"], stepEnv);
        if (res === undefined) continue;
        if (!Array.isArray(res)) res = [res];
        const list = res as _Seq;
        // A tuple per item of each binding's array, as a path step's items,
        // each an object to fill (10,000,000 took Deno 8 s).
        const n = result.length + list.length;
        if (n > MAX_ITEMS) _items(n, "a path step");
        for (let bb = 0; bb < list.length; bb++) {
          _work(1);
          const tuple: _Rec = Object.create(null);
          Object.assign(tuple, binding);
          if (list.tupleStream) Object.assign(tuple, list[bb]);
          else {
            if (focus !== undefined) {
              tuple[focus] = list[bb];
              tuple["@"] = binding["@"];
            } else tuple["@"] = list[bb];
            if (index !== undefined) tuple[index] = bb;
            if (ancestor !== undefined) tuple[ancestor] = binding["@"];
          }
          result.push(tuple);
        }
      }
      if (expr.stages !== undefined) result = stages(result, env) as _Seq;
      return result;
    };
  }

  /** The package's `evaluateFilter`: a predicate `[...]` applied to input. */
  filter(predicate: Node): (input: unknown, env: Frame) => unknown {
    if (predicate.type === "number") {
      const floor = Math.floor(predicate.value as number);
      return (input) => {
        let results: unknown = _createSequence();
        if (input && (input as _Seq).tupleStream) {
          (results as _Seq).tupleStream = true;
        }
        const seq = Array.isArray(input) ? input : _createSequence(input);
        const index = floor < 0 ? seq.length + floor : floor;
        const item = seq[index];
        if (item !== undefined) {
          if (Array.isArray(item)) results = item;
          else (results as unknown[]).push(item);
        }
        return results;
      };
    }
    const f = this.node(predicate);
    return (input, env) => {
      const results = _createSequence();
      const tuples = input ? (input as _Seq).tupleStream === true : false;
      if (tuples) results.tupleStream = true;
      const seq = Array.isArray(input) ? input : _createSequence(input);
      for (let index = 0; index < seq.length; index++) {
        const item = seq[index];
        let res = tuples
          ? f((item as _Rec)["@"], _frameFromTuple(env, item as _Rec))
          : f(item, env);
        if (_isNumeric(res)) res = [res];
        if (_isArrayOfNumbers(res)) {
          for (const ires of res as number[]) {
            let ii = Math.floor(ires);
            if (ii < 0) ii = seq.length + ii;
            if (ii === index) results.push(item);
          }
        } else if (_toBoolean(res)) results.push(item);
      }
      return results;
    };
  }

  binary(expr: Node): Fn {
    const op = expr.value as string;
    const lhs = this.node(expr.lhs as Node);
    const rhs = this.node(expr.rhs!);
    const position = expr.position;
    if (op === "and" || op === "or") {
      const and = op === "and";
      return (input, env) => {
        const l = lhs(input, env);
        try {
          const lBool = _boolize(l);
          if (and) return lBool && _boolize(rhs(input, env));
          return lBool || _boolize(rhs(input, env));
        } catch (err) {
          _setPosition(err, position, op);
          throw err;
        }
      };
    }
    const apply = _binaryOps[op];
    if (apply === undefined) throw new _Unsupported(`the operator ${op}`);
    return (input, env) => {
      const l = lhs(input, env);
      const r = rhs(input, env);
      try {
        return apply(l, r);
      } catch (err) {
        _setPosition(err, position, op);
        throw err;
      }
    };
  }

  unary(expr: Node): Fn {
    switch (expr.value) {
      case "-": {
        const f = this.node(expr.expression!);
        return (input, env) => {
          const result = f(input, env);
          if (result === undefined) return undefined;
          if (_isNumeric(result)) return -result;
          throw _error("D1002", {
            position: expr.position,
            token: expr.value,
            value: result,
          });
        };
      }
      case "[": {
        const items = expr.expressions!.map((e) => ({
          f: this.node(e),
          nested: e.value === "[",
        }));
        const cons = expr.consarray === true;
        return (input, env) => {
          let result: unknown[] = [];
          for (const item of items) {
            const value = item.f(input, env);
            if (value !== undefined) {
              if (item.nested) result.push(value);
              else result = _append(result, value) as unknown[];
            }
          }
          if (cons) {
            Object.defineProperty(result, "cons", {
              enumerable: false,
              configurable: false,
              value: true,
            });
          }
          return result;
        };
      }
      case "{":
        return this.group(expr as unknown as Group);
      default:
        throw new _Unsupported(`the unary ${expr.value}`);
    }
  }

  /** The package's `evaluateGroupExpression` (object constructors). */
  group(expr: Group): (input: unknown, env: Frame) => unknown {
    const pairs = expr.lhs.map(([k, v]) => [this.node(k), this.node(v)]);
    const position = expr.position;
    const general = (input: unknown, env: Frame): unknown => {
      const result: _Rec = Object.create(null);
      const groups: Record<string, { data: unknown; exprIndex: number }> =
        Object.create(null);
      const reduce = input ? (input as _Seq).tupleStream === true : false;
      const seq = Array.isArray(input) ? input : _createSequence(input);
      if (seq.length === 0 && !reduce) seq.push(undefined);
      for (const item of seq) {
        const itemEnv = reduce ? _frameFromTuple(env, item as _Rec) : env;
        const context = reduce ? (item as _Rec)["@"] : item;
        for (let pairIndex = 0; pairIndex < pairs.length; pairIndex++) {
          const key = pairs[pairIndex][0](context, itemEnv);
          if (typeof key !== "string" && key !== undefined) {
            throw _error("T1003", { position, value: key });
          }
          if (key === undefined) continue;
          if (key === "_jsonata_lambda" || key === "_jsonata_function") {
            throw _error("D1013", { position, value: key });
          }
          if (_hasOwn.call(groups, key)) {
            if (groups[key].exprIndex !== pairIndex) {
              throw _error("D1009", { position, value: key });
            }
            groups[key].data = _append(groups[key].data, item);
          } else groups[key] = { data: item, exprIndex: pairIndex };
        }
      }
      for (const key of _keys(groups)) {
        const entry = groups[key];
        let context = entry.data;
        let valueEnv = env;
        if (reduce) {
          const tuple = _reduceTupleStream(entry.data);
          context = tuple["@"];
          delete tuple["@"];
          valueEnv = _frameFromTuple(env, tuple);
        }
        const value = pairs[entry.exprIndex][1](context, valueEnv);
        if (value !== undefined) result[key] = value;
      }
      return result;
    };
    const names = _literalKeys(expr);
    if (names === undefined) return general;
    const values = pairs.map((p) => p[1]);
    return (input, env) => {
      if (Array.isArray(input)) return general(input, env);
      const result: _Rec = Object.create(null);
      for (let i = 0; i < values.length; i++) {
        const value = values[i](input, env);
        if (value !== undefined) result[names[i]] = value;
      }
      return result;
    };
  }

  /**
   * An object constructor at the root, built as a plain object with plain
   * values (what `toPlain` would make of the package's answer), so that a
   * `flow/Map` result is sent without a copy: V8 keeps objects without a
   * prototype in its slow dictionary mode, and copying them cost more
   * than the evaluation. Undefined when `expr` is not such a constructor.
   */
  plainObject(expr: Node, general: Fn): Fn | undefined {
    if (
      expr.type !== "unary" || expr.value !== "{" ||
      expr.predicate !== undefined || expr.group !== undefined
    ) return undefined;
    const group = expr as unknown as Group;
    const names = _literalKeys(group);
    if (names === undefined) return undefined;
    const values = group.lhs.map(([, v]) => this.node(v));
    if (_GENERIC_STORES) {
      return (input, env) => {
        if (Array.isArray(input)) return general(input, env);
        const result: _Rec = {};
        for (let i = 0; i < values.length; i++) {
          const value = values[i](input, env);
          if (value !== undefined) result[names[i]] = toPlain(value);
        }
        return result;
      };
    }
    // Generated, for named stores (see _loneName); the keys enter the code
    // only as JSON string literals.
    // All values defined (the usual case) make one object literal, which
    // both engines build fastest; else the keys are added one by one.
    const keys = names.map((name) => JSON.stringify(name));
    const compute = keys.map((_, i) =>
      `const v${i} = values[${i}](input, env);`
    )
      .join("\n  ");
    const allDefined = keys.map((_, i) => `v${i} !== undefined`).join(" && ");
    const literal = keys.map((k, i) => `${k}: toPlain(v${i})`).join(", ");
    const oneByOne = keys.map((k, i) =>
      `if (v${i} !== undefined) result[${k}] = toPlain(v${i});`
    ).join("\n  ");
    const make = new Function(
      "values",
      "toPlain",
      "general",
      `"use strict";
return function (input, env) {
  if (Array.isArray(input)) return general(input, env);
  ${compute}
  if (${allDefined || "true"}) return { ${literal} };
  const result = {};
  ${oneByOne}
  return result;
};`,
    ) as (values: Fn[], plain: typeof toPlain, general: Fn) => Fn;
    return make(values, toPlain, general);
  }

  wildcard(input: unknown): unknown {
    let results: unknown = _createSequence();
    if (
      Array.isArray(input) && (input as _Seq).outerWrapper && input.length > 0
    ) {
      input = input[0];
    }
    if (input !== null && typeof input === "object" && !_isFunction(input)) {
      for (const key of _keys(input)) {
        const value = (input as _Rec)[key];
        if (Array.isArray(value)) {
          results = _append(results, _flatten(value, []));
        } else (results as unknown[]).push(value);
      }
    }
    return results;
  }

  condition(expr: Node): Fn {
    const cond = this.node(expr.condition!);
    const then = this.node(expr.then!);
    const otherwise = expr.else !== undefined
      ? this.node(expr.else)
      : undefined;
    return (input, env) => {
      if (_toBoolean(cond(input, env))) return then(input, env);
      if (otherwise !== undefined) return otherwise(input, env);
      return undefined;
    };
  }

  block(expr: Node): Fn {
    const exprs = expr.expressions!.map((e) => this.node(e));
    return (input, env) => {
      const frame = new Frame(env, env.run);
      let result;
      for (const e of exprs) result = e(input, frame);
      return result;
    };
  }

  lambda(expr: Node): Fn {
    if (expr.thunk === true) {
      const call = expr.body!;
      const proc = this.node(call.procedure!);
      const args = call.arguments!.map((a) => this.node(a));
      return (input, env): Lambda => ({
        _jsonata_lambda: true,
        input,
        environment: env,
        arguments: expr.arguments!,
        signature: expr.signature,
        body: call,
        thunk: true,
        _proc: proc,
        _args: args,
      });
    }
    const body = this.node(expr.body!);
    return (input, env): Lambda => ({
      _jsonata_lambda: true,
      input,
      environment: env,
      arguments: expr.arguments!,
      signature: expr.signature,
      body: expr.body!,
      _fn: body,
      apply: _lambdaApply,
    });
  }

  /**
   * The package's `evaluateFunction` (a call); a third argument is the
   * value `~>` applies the call to (its `applyto`).
   */
  func(
    expr: Node,
  ): (input: unknown, env: Frame, ...context: unknown[]) => unknown {
    const procedure = expr.procedure!;
    const proc = this.node(procedure);
    const args = expr.arguments!.map((a) => this.node(a));
    const procName = procedure.type === "path"
      ? procedure.steps![0].value
      : procedure.value;
    const position = expr.position;
    const firstStep = procedure.type === "path"
      ? procedure.steps![0].value as string
      : undefined;
    return (input, env, ...context) => {
      const p = proc(input, env);
      if (p === undefined && firstStep !== undefined && env.lookup(firstStep)) {
        throw _error("T1005", { position, token: firstStep });
      }
      const evaluatedArgs: unknown[] = context.length > 0 ? [context[0]] : [];
      for (const a of args) {
        const arg = a(input, env);
        if (_isFunction(arg)) {
          const closure = (...params: unknown[]) =>
            _apply(arg, params, null, env);
          (closure as unknown as _Rec).arity = _functionArity(arg);
          evaluatedArgs.push(closure);
        } else evaluatedArgs.push(arg);
      }
      try {
        if (p !== null && typeof p === "object") {
          (p as _Rec).token = procName;
          (p as _Rec).position = position;
        }
        return _apply(p, evaluatedArgs, input, env);
      } catch (err) {
        if (err !== null && typeof err === "object") {
          const e = err as _Rec;
          if (!e.position) e.position = position;
          if (!e.token) e.token = procName;
        }
        throw err;
      }
    };
  }

  /** The package's `evaluatePartialApplication` (`$f(?, 1)`). */
  partial(expr: Node): Fn {
    const argNodes = expr.arguments!;
    const args = argNodes.map((a) =>
      a.type === "operator" && a.value === "?" ? undefined : this.node(a)
    );
    const procedure = expr.procedure!;
    const proc = this.node(procedure);
    const firstStep = procedure.type === "path"
      ? procedure.steps![0].value as string
      : undefined;
    const token = firstStep ?? procedure.value;
    return (input, env) => {
      const evaluatedArgs = args.map((f, i) =>
        f === undefined ? argNodes[i] : f(input, env)
      );
      const p = proc(input, env);
      if (p === undefined && firstStep !== undefined && env.lookup(firstStep)) {
        throw _error("T1007", { position: expr.position, token: firstStep });
      }
      if (_isLambda(p)) return _partialApplyProcedure(p, evaluatedArgs, env);
      if (p && (p as _Rec)._jsonata_function === true) {
        return _partialApplyNative(
          (p as unknown as _FunctionDef).implementation,
          evaluatedArgs,
          env,
        );
      }
      if (typeof p === "function") {
        return _partialApplyNative(
          p as (this: _Focus, ...args: unknown[]) => unknown,
          evaluatedArgs,
          env,
        );
      }
      throw _error("T1008", { position: expr.position, token });
    };
  }

  /** The package's `evaluateTransformExpression` (`|pattern|update,delete|`). */
  transform(expr: Node & { pattern?: Node; update?: Node; delete?: Node }): Fn {
    const pattern = this.node(expr.pattern!);
    const update = this.node(expr.update!);
    const deletion = expr.delete !== undefined
      ? this.node(expr.delete)
      : undefined;
    const position = expr.position;
    const updatePosition = expr.update!.position;
    const deletePosition = expr.delete?.position;
    return (_input, env) => {
      const transformer = (obj: unknown): unknown => {
        if (obj === undefined) return undefined;
        const cloneFunction = env.lookup("clone");
        if (!_isFunction(cloneFunction)) {
          throw _error("T2013", { position });
        }
        const result = _apply(cloneFunction, [obj], null, env);
        let matches = pattern(result, env);
        if (matches !== undefined) {
          if (!Array.isArray(matches)) matches = [matches];
          for (const match of matches as _Rec[]) {
            const upd = update(match, env);
            if (upd !== undefined) {
              if (
                typeof upd !== "object" || upd === null || Array.isArray(upd)
              ) {
                throw _error("T2011", { position: updatePosition, value: upd });
              }
              for (const prop of _keys(upd)) match[prop] = (upd as _Rec)[prop];
            }
            if (deletion !== undefined) {
              let deletions = deletion(match, env);
              if (deletions !== undefined) {
                const val = deletions;
                if (!Array.isArray(deletions)) deletions = [deletions];
                if (!_isArrayOfStrings(deletions)) {
                  throw _error("T2012", {
                    position: deletePosition,
                    value: val,
                  });
                }
                for (const d of deletions as string[]) {
                  if (typeof match === "object" && match !== null) {
                    delete match[d];
                  }
                }
              }
            }
          }
        }
        return result;
      };
      return {
        _jsonata_function: true,
        implementation: transformer,
        signature: _transformSignature(),
      };
    };
  }

  /** The package's `evaluateApplyExpression` (`~>`). */
  applyExpr(expr: Node): Fn {
    const lhs = this.node(expr.lhs as Node);
    const rhsNode = expr.rhs!;
    if (rhsNode.type === "function") {
      const call = this.func(rhsNode);
      return (input, env) => call(input, env, lhs(input, env));
    }
    const rhs = this.node(rhsNode);
    return (input, env) => {
      const l = lhs(input, env);
      const func = rhs(input, env);
      if (!_isFunction(func)) {
        throw _error("T2006", { position: expr.position, value: func });
      }
      if (_isFunction(l)) {
        const chain = _chain(null, env);
        return _apply(chain, [l, func], null, env);
      }
      return _apply(func, [l], null, env);
    };
  }

  /** The package's `evaluateSortExpression` (`^(...)`). */
  sort(expr: Node): (input: unknown[], env: Frame) => unknown {
    const terms = expr.terms!.map((t) => ({
      f: this.node(t.expression),
      descending: t.descending === true,
    }));
    const position = expr.position;
    return (input, env) => {
      const tuples = (input as _Seq).tupleStream === true;
      const comparator = (a: unknown, b: unknown): boolean => {
        let comp = 0;
        for (let index = 0; comp === 0 && index < terms.length; index++) {
          const term = terms[index];
          const aa = tuples
            ? term.f((a as _Rec)["@"], _frameFromTuple(env, a as _Rec))
            : term.f(a, env);
          const bb = tuples
            ? term.f((b as _Rec)["@"], _frameFromTuple(env, b as _Rec))
            : term.f(b, env);
          const atype = typeof aa;
          const btype = typeof bb;
          if (atype === "undefined") {
            comp = btype === "undefined" ? 0 : 1;
            continue;
          }
          if (btype === "undefined") {
            comp = -1;
            continue;
          }
          if (
            !(atype === "string" || atype === "number") ||
            !(btype === "string" || btype === "number")
          ) {
            throw _error("T2008", {
              position,
              value: !(atype === "string" || atype === "number") ? aa : bb,
            });
          }
          if (atype !== btype) {
            throw _error("T2007", { position, value: aa, value2: bb });
          }
          if (aa === bb) continue;
          comp = (aa as number) < (bb as number) ? -1 : 1;
          if (term.descending) comp = -comp;
        }
        return comp === 1;
      };
      if (input === undefined) return undefined;
      if (input.length <= 1) return input;
      return _mergeSort(input, comparator);
    };
  }
}

/**
 * Whether a root object constructor stores its keys from a shared loop
 * rather than from generated code. Measured on the 5-stage `flow/Map`
 * pipeline (bench/expr_bench.ts): V8 (Deno) runs the shared loop's keyed
 * stores megamorphic, about 700,000 against 1,000,000 msg/s generated;
 * JavaScriptCore (Bun) runs the loop at about 940,000 and the generated
 * code at about 520,000 msg/s. So the engine picks.
 */
const _GENERIC_STORES =
  typeof (globalThis as Record<string, unknown>).Bun !== "undefined";

/**
 * A path of names (`price`, `payload.temp`), the commonest expressions,
 * evaluated on objects as the general path would (the same answer without
 * its sequences), else by `general` (the node's full evaluation): when an
 * object on the way holds an array, or the input is one. The code is
 * generated per path so that the property reads are named ones: a shared
 * closure reading `input[key]` sees every key of every expression and
 * goes megamorphic, which cost V8 more than the rest of the evaluation.
 * The names enter the code only as JSON string literals.
 */
function _loneName(
  expr: Node,
  general: Fn,
  variable: Fn | undefined,
): Fn | undefined {
  const all = expr.steps;
  // A path from a variable (`$item.name`): its value, then the names.
  const steps = variable !== undefined ? all?.slice(1) : all;
  if (
    expr.type !== "path" || steps === undefined || steps.length === 0 ||
    expr.keepSingletonArray === true || expr.group !== undefined ||
    expr.predicate !== undefined || expr.keepArray === true ||
    expr.tuple === true
  ) return undefined;
  if (variable !== undefined) {
    const head = all![0];
    if (
      head.stages !== undefined || head.predicate !== undefined ||
      head.group !== undefined || head.keepArray === true ||
      head.tuple === true || head.focus !== undefined ||
      head.index !== undefined || head.ancestor !== undefined ||
      head.consarray === true
    ) return undefined;
  }
  for (const step of steps) {
    if (
      step.type !== "name" || step.consarray === true ||
      step.stages !== undefined || step.predicate !== undefined ||
      step.group !== undefined || step.keepArray === true ||
      step.tuple === true || step.focus !== undefined ||
      step.index !== undefined || step.ancestor !== undefined
    ) return undefined;
  }
  const reads = steps.map((step, i) => {
    const key = JSON.stringify(step.value as string);
    // An array on the way (not at the end) takes the general path.
    const next = i < steps.length - 1
      ? "if (Array.isArray(v)) return general(input, env);"
      : "";
    return `if (v === null || typeof v !== "object") return undefined;
    if (!hasOwn.call(v, ${key}) || v._jsonata_function === true ||
      v._jsonata_lambda === true) return undefined;
    v = v[${key}];
    ${next}`;
  }).join("\n    ");
  const start = variable !== undefined
    ? `{
    let v = variable(input, env);
    if (Array.isArray(v)) return general(input, env);`
    : `if (!Array.isArray(input)) {
    let v = input;`;
  const make = new Function(
    "hasOwn",
    "general",
    "variable",
    `"use strict";
return function (input, env) {
  ${start}
    ${reads}
    if (!Array.isArray(v) || v.sequence !== true) return v;
  }
  return general(input, env);
};`,
  ) as (hasOwn: typeof _hasOwn, general: Fn, variable: Fn | undefined) => Fn;
  return make(_hasOwn, general, variable);
}

/**
 * The keys of an object constructor when all are distinct string literals
 * (one input then needs no grouping), else undefined. `__proto__` and the
 * package's reserved names take the general path.
 */
function _literalKeys(expr: Group): string[] | undefined {
  const keys: string[] = [];
  // A set, not keys.includes: an object of 70,000 keys in a text given to
  // $eval (compiled while the evaluation waits) took Bun past 30 s.
  const seen = new Set<string>();
  for (const [k] of expr.lhs) {
    if (
      k.type !== "string" || k.predicate !== undefined ||
      k.group !== undefined || k.keepArray === true
    ) return undefined;
    const key = k.value as string;
    if (
      key === "_jsonata_lambda" || key === "_jsonata_function" ||
      key === "__proto__" || seen.has(key)
    ) return undefined;
    seen.add(key);
    keys.push(key);
  }
  return keys;
}

/** The package's `createFrameFromTuple`: a tuple's bindings as variables. */
function _frameFromTuple(env: Frame, tuple: _Rec): Frame {
  const frame = new Frame(env, env.run);
  for (const prop of _keys(tuple)) frame.bind(prop, tuple[prop]);
  return frame;
}

/** The package's `reduceTupleStream`: tuples of one group as one. */
function _reduceTupleStream(tupleStream: unknown): _Rec {
  if (!Array.isArray(tupleStream)) return tupleStream as _Rec;
  const result: _Rec = Object.create(null);
  Object.assign(result, tupleStream[0]);
  for (let ii = 1; ii < tupleStream.length; ii++) {
    for (const prop of _keys(tupleStream[ii])) {
      result[prop] = _append(result[prop], (tupleStream[ii] as _Rec)[prop]);
    }
  }
  return result;
}

/**
 * The package's `evaluateRegex`: a matcher closure over a fresh regular
 * expression, run in linear time (see `linear_regexp.ts`, the package's
 * `RegexEngine` as well). A pattern the engine refuses is refused when
 * the expression is compiled, except in text given to `$eval`: that
 * throws here, at evaluation, as the package does.
 */
function _regex(expr: Node): Fn {
  const source = expr.value as RegExp;
  const position = expr.position;
  return () => {
    const re = new LinearRegExp(source);
    const closure = (str: string, fromIndex?: number): unknown => {
      re.lastIndex = fromIndex || 0;
      const match = re.exec(str);
      if (match === null) return undefined;
      const result = {
        match: match[0],
        start: match.index,
        end: match.index + match[0].length,
        groups: [] as string[],
        next: undefined as unknown,
      };
      for (let i = 1; i < match.length; i++) result.groups.push(match[i]);
      result.next = () => {
        if (re.lastIndex >= str.length) return undefined;
        const next = closure(str, re.lastIndex) as { match: string };
        if (next && next.match === "") {
          throw _error("D1004", { position, value: source.source });
        }
        return next;
      };
      return result;
    };
    return closure;
  };
}

/** The package's `apply`: a call, then tail calls in a loop (trampoline). */
function _apply(
  proc: unknown,
  args: unknown[],
  input: unknown,
  env: Frame,
): unknown {
  let result = _applyInner(proc, args, input, env);
  while (_isLambda(result) && result.thunk === true) {
    const thunk = result;
    const body = thunk.body as Node;
    const next = thunk._proc!(thunk.input, thunk.environment) as _Rec;
    if (body.procedure!.type === "variable") {
      next.token = body.procedure!.value;
    }
    next.position = body.procedure!.position;
    const evaluatedArgs = thunk._args!.map((a) =>
      a(thunk.input, thunk.environment)
    );
    result = _applyInner(next, evaluatedArgs, input, env);
  }
  return result;
}

function _applyInner(
  proc: unknown,
  args: unknown[],
  input: unknown,
  env: Frame,
): unknown {
  const p = proc as _Rec | undefined;
  try {
    let validatedArgs = args;
    if (proc) {
      // A built-in's pass over its arguments (its signature's too) is one
      // step however long they are (see _growth.ts).
      if (p!._jsonata_function === true) _workOn(args);
      const signature = p!.signature as _Signature | undefined;
      if (signature !== undefined) {
        validatedArgs = signature.validate(args, input);
      }
    }
    if (_isLambda(proc)) return _applyProcedure(proc, validatedArgs);
    if (proc && p!._jsonata_function === true) {
      const focus: _Focus = {
        environment: env,
        input,
        createSequence: _createSequence,
        call: (func, callArgs) => _apply(func, callArgs, null, env),
      };
      let result = (p as unknown as _FunctionDef).implementation.apply(
        focus,
        validatedArgs,
      );
      if (_isIterable(result)) result = result.next().value;
      if (_isPromise(result)) throw new _Bail("an asynchronous function");
      return result;
    }
    if (typeof proc === "function") {
      const result = proc.apply(input, validatedArgs);
      if (_isPromise(result)) throw new _Bail("an asynchronous function");
      return result;
    }
    throw _error("T1006");
  } catch (err) {
    if (proc && err !== null && typeof err === "object") {
      const e = err as _Rec;
      if (e.token === undefined && p!.token !== undefined) e.token = p!.token;
      e.position = p!.position || e.position;
    }
    throw err;
  }
}

function _isIterable(arg: unknown): arg is { next(): { value: unknown } } {
  return typeof arg === "object" && arg !== null &&
    Symbol.iterator in arg && "next" in arg &&
    typeof (arg as _Rec).next === "function";
}

function _isPromise(arg: unknown): boolean {
  return typeof arg === "object" && arg !== null && "then" in arg &&
    typeof (arg as _Rec).then === "function";
}

function _applyProcedure(proc: Lambda, args: unknown[]): unknown {
  const env = new Frame(proc.environment, proc.environment.run);
  proc.arguments.forEach((param, index) => {
    env.bind(param.value as string, args[index]);
  });
  if (proc._native !== undefined) {
    // The package's `applyNativeFunction`: arguments by parameter name.
    const nativeArgs = proc._nativeArgs!.map((name) => env.lookup(name));
    const focus: _Focus = {
      environment: env,
      input: undefined,
      createSequence: _createSequence,
      call: (func, callArgs) => _apply(func, callArgs, null, env),
    };
    const result = proc._native.apply(focus, nativeArgs);
    if (_isPromise(result)) throw new _Bail("an asynchronous function");
    return result;
  }
  return proc._fn!(proc.input, env);
}

/** The package's `partialApplyProcedure`: `?` arguments stay parameters. */
function _partialApplyProcedure(
  proc: Lambda,
  args: unknown[],
  env: Frame,
): Lambda {
  const frame = new Frame(proc.environment ?? env, env.run);
  const unbound: Node[] = [];
  proc.arguments.forEach((param, index) => {
    const arg = args[index] as Node | undefined;
    if (
      arg !== null && typeof arg === "object" && arg.type === "operator" &&
      arg.value === "?"
    ) unbound.push(param);
    else frame.bind(param.value as string, arg);
  });
  return {
    _jsonata_lambda: true,
    input: proc.input,
    environment: frame,
    arguments: unbound,
    body: proc.body,
    _fn: proc._fn,
    _native: proc._native,
    _nativeArgs: proc._nativeArgs,
    apply: _lambdaApply,
  };
}

/**
 * The package's `partialApplyNativeFunction`: a lambda over a JavaScript
 * function, its parameters read from the function's text.
 */
function _partialApplyNative(
  native: (this: _Focus, ...args: unknown[]) => unknown,
  args: unknown[],
  env: Frame,
): Lambda {
  const names = /\(([^)]*)\)/.exec(native.toString())![1].split(",").map((
    a,
  ) => a.trim());
  const params = (jsonata(
    `function(${names.map((n) => "$" + n).join(", ")}){ _ }`,
  ).ast() as Node).arguments!;
  return _partialApplyProcedure(
    {
      _jsonata_lambda: true,
      input: undefined,
      environment: undefined as unknown as Frame,
      arguments: params,
      body: native,
      _native: native,
      _nativeArgs: names,
    },
    args,
    env,
  );
}

let _transformSig: _Signature | undefined;
/** `<(oa):o>`, the signature of a transform, as the package parses it. */
function _transformSignature(): _Signature {
  _transformSig ??= (jsonata("function($o)<(oa):o>{ $o }").ast() as Node)
    .signature!;
  return _transformSig;
}

/** `function($f, $g) { function($x){ $g($f($x)) } }`, for `f ~> g`. */
let _chainFn: Fn | undefined;
function _chain(input: unknown, env: Frame): unknown {
  _chainFn ??= new _Compiler(false).node(
    jsonata("function($f, $g) { function($x){ $g($f($x)) } }").ast() as Node,
  );
  return _chainFn(input, env);
}
