// The condition language of form questions (`relevant`), ported from server/forms/conditions.py.
// Same grammar, same refusals (each with the same Chinese and English reason), same evaluation:
// tests/forms/condition_vectors.json holds the cases both implementations must agree on
// (tests/forms/test_condition_vectors.py runs them in Python and in Chromium).
//
//   condition  := or            or := and ("or" and)*        and := unary ("and" unary)*
//   unary      := "not" "(" condition ")" | "(" condition ")" | selected | comparison
//   selected   := "selected" "(" ref "," string ")"
//   comparison := operand ("=" | "!=" | "<" | ">" | "<=" | ">=") operand
//   operand    := ref | string | number;  ref := "${" name "}"
//
// An unanswered (or hidden) question has no value: "=" is false, "!=" is true, the orderings
// and selected() are false.

export const MAX_LENGTH = 1000;
export const MAX_DEPTH = 32;
export const ORDERING = ['<', '>', '<=', '>='];
export const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

/** A text that is not a condition of the subset; detailZh/detailEn say why. */
export class ConditionError extends Error {
  constructor(detailZh, detailEn, construct = null) {
    super(detailEn);
    this.detailZh = detailZh;
    this.detailEn = detailEn;
    this.construct = construct;
  }
}

// Python's `re` alternation, one group per kind, in the same order.
const TOKEN = /(\s+)|(\$\{[^}]*\})|('[^']*'|"[^"]*")|(\d+(?:\.\d+)?)|(!=|<=|>=|=|<|>)|([(),])|([A-Za-z_][A-Za-z0-9_.:-]*)|([\s\S])/gu;
const KINDS = ['space', 'ref', 'string', 'number', 'op', 'punct', 'word', 'other'];
const ARITHMETIC = new Set(['+', '-', '*', '|', '/']);

function tokens(text) {
  const found = [];
  for (const m of text.matchAll(TOKEN)) {
    const kind = KINDS[m.slice(1).findIndex((g) => g !== undefined)];
    if (kind === 'space') continue;
    const last = found[found.length - 1];
    if (kind === 'number' && last && last.kind === 'other' && last.text === '-') {
      // A minus right before a number is a negative literal unless it follows an operand.
      const before = found.length > 1 ? found[found.length - 2] : null;
      const afterOperand = before !== null
        && (['ref', 'string', 'number'].includes(before.kind) || before.text === ')');
      if (!afterOperand) {
        found[found.length - 1] = { kind: 'number', text: '-' + m[0], at: last.at };
        continue;
      }
    }
    found.push({ kind, text: m[0], at: m.index });
  }
  return found;
}

function unsupported(construct, zh, en) {
  return new ConditionError(zh || `不支持“${construct}”。`, en || `"${construct}" is not supported.`, construct);
}

function unexpected(token) {
  if (token.kind === 'other' && ARITHMETIC.has(token.text)) {
    return unsupported(token.text, `不支持运算符“${token.text}”。`, `the operator "${token.text}" is not supported.`);
  }
  if (token.kind === 'other' && token.text === '.') {
    return unsupported('.', '不支持当前题引用“.”。', 'the current-question reference "." is not supported.');
  }
  if (token.kind === 'word' && (token.text === 'div' || token.text === 'mod')) {
    return unsupported(token.text, `不支持运算符“${token.text}”。`, `the operator "${token.text}" is not supported.`);
  }
  return new ConditionError(
    `第 ${token.at + 1} 个字符处的“${token.text}”不符合语法。`,
    `unexpected "${token.text}" at character ${token.at + 1}.`,
  );
}

const early = () => new ConditionError('条件不完整。', 'the condition ends too early.');

class Parser {
  constructor(list) { this.list = list; this.pos = 0; }

  peek() { return this.pos < this.list.length ? this.list[this.pos] : null; }

  take() {
    const token = this.peek();
    if (token === null) throw early();
    this.pos += 1;
    return token;
  }

  expect(text) {
    const token = this.take();
    if (token.text !== text) {
      throw new ConditionError(
        `第 ${token.at + 1} 个字符处应为“${text}”，而不是“${token.text}”。`,
        `expected "${text}" at character ${token.at + 1}, not "${token.text}".`,
      );
    }
  }

  atWord(word) {
    const token = this.peek();
    return token !== null && token.kind === 'word' && token.text === word;
  }

  condition(depth) {
    if (depth > MAX_DEPTH) {
      throw new ConditionError(`条件嵌套超过 ${MAX_DEPTH} 层。`, `the condition nests deeper than ${MAX_DEPTH}.`);
    }
    const items = [this.conjunction(depth)];
    while (this.atWord('or')) { this.take(); items.push(this.conjunction(depth)); }
    return items.length === 1 ? items[0] : { type: 'or', items };
  }

  conjunction(depth) {
    const items = [this.unary(depth)];
    while (this.atWord('and')) { this.take(); items.push(this.unary(depth)); }
    return items.length === 1 ? items[0] : { type: 'and', items };
  }

  unary(depth) {
    const token = this.peek();
    if (token === null) throw early();
    if (token.kind === 'punct' && token.text === '(') {
      this.take();
      const inner = this.condition(depth + 1);
      this.expect(')');
      return inner;
    }
    if (token.kind === 'word' && (token.text === 'not' || token.text === 'selected')) {
      this.take();
      this.expect('(');
      if (token.text === 'not') {
        const inner = this.condition(depth + 1);
        this.expect(')');
        return { type: 'not', inner };
      }
      const ref = this.operand();
      if (ref.type !== 'ref') {
        throw new ConditionError('selected() 的第一个参数必须是 ${问题名}。', 'the first argument of selected() must be ${name}.');
      }
      this.expect(',');
      const value = this.operand();
      if (value.type !== 'str') {
        throw new ConditionError('selected() 的第二个参数必须是带引号的选项值。', 'the second argument of selected() must be a quoted choice value.');
      }
      this.expect(')');
      return { type: 'selected', ref, value: value.value };
    }
    const left = this.operand();
    const op = this.peek();
    if (op === null || op.kind !== 'op') {
      if (op !== null && unexpected(op).construct !== null) throw unexpected(op);
      if (left.type === 'ref') {
        throw unsupported(
          '${' + left.name + '}',
          `不支持单独的引用“\${${left.name}}”：请写出比较，如 \${${left.name}} = 'yes'。`,
          `a bare reference "\${${left.name}}" is not supported: write a comparison such as \${${left.name}} = 'yes'.`,
        );
      }
      if (op === null) throw early();
      throw unexpected(op);
    }
    this.take();
    const right = this.operand();
    if (left.type !== 'ref' && right.type !== 'ref') {
      throw new ConditionError('比较的两边不能都是常量。', 'a comparison needs a ${name} on at least one side.');
    }
    return { type: 'compare', op: op.text, left, right };
  }

  operand() {
    const token = this.take();
    if (token.kind === 'ref') {
      const name = token.text.slice(2, -1);
      if (!NAME.test(name)) {
        throw new ConditionError(`“${token.text}”不是有效的问题引用。`, `"${token.text}" is not a valid reference.`);
      }
      return { type: 'ref', name };
    }
    if (token.kind === 'string') return { type: 'str', value: token.text.slice(1, -1) };
    if (token.kind === 'number') return { type: 'num', text: token.text, value: Number(token.text) };
    if (token.kind === 'word') {
      const following = this.peek();
      if (following !== null && following.text === '(') {
        const fn = token.text + '()';
        throw unsupported(fn, `不支持函数“${fn}”。`, `the function "${fn}" is not supported.`);
      }
      if (token.text === 'true' || token.text === 'false') throw unsupported(token.text);
      throw unsupported(
        token.text,
        `不支持路径“${token.text}”：请用 \${问题名} 引用问题。`,
        `the path "${token.text}" is not supported: refer to questions as \${name}.`,
      );
    }
    if (token.kind === 'other' && (token.text === "'" || token.text === '"')) {
      throw new ConditionError('字符串缺少结束引号。', 'a string has no closing quote.');
    }
    throw unexpected(token);
  }
}

/** Parse a condition (a tree of plain objects); throw ConditionError naming what is wrong. */
export function parse(text) {
  if (typeof text !== 'string' || !text.trim()) throw new ConditionError('条件为空。', 'the condition is empty.');
  if (text.length > MAX_LENGTH) {
    throw new ConditionError(`条件超过 ${MAX_LENGTH} 个字符。`, `the condition is longer than ${MAX_LENGTH} characters.`);
  }
  const parser = new Parser(tokens(text));
  const expr = parser.condition(0);
  if (parser.peek() !== null) throw unexpected(parser.peek());
  return expr;
}

/** The question names a condition reads, in text order, each once. */
export function references(expr) {
  const names = [];
  const visit = (node) => {
    if (node.type === 'not') visit(node.inner);
    else if (node.type === 'and' || node.type === 'or') node.items.forEach(visit);
    else {
      const refs = node.type === 'compare' ? [node.left, node.right] : [node.ref];
      for (const r of refs) if (r.type === 'ref' && !names.includes(r.name)) names.push(r.name);
    }
  };
  visit(expr);
  return names;
}

const isNumber = (v) => typeof v === 'number' && Number.isFinite(v);

// Python compares non-numbers as str(left) == str(right); a literal number is a float there
// ("2" → "2.0"), an integer answer an int.
function pyText(v, literal) {
  if (typeof v === 'number' && literal && Number.isInteger(v) && Math.abs(v) < 1e16) return v.toFixed(1);
  return String(v);
}

function operandValue(operand, values) {
  if (operand.type === 'ref') {
    const v = values[operand.name];
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) return null;
    return v;
  }
  return operand.value;
}

/** Whether the condition holds for these answers (absent or null = unanswered). */
export function evaluate(expr, values) {
  switch (expr.type) {
    case 'and': return expr.items.every((item) => evaluate(item, values));
    case 'or': return expr.items.some((item) => evaluate(item, values));
    case 'not': return !evaluate(expr.inner, values);
    case 'selected': {
      const v = values[expr.ref.name];
      return Array.isArray(v) ? v.includes(expr.value) : v === expr.value;
    }
    default: break;
  }
  const left = operandValue(expr.left, values);
  const right = operandValue(expr.right, values);
  if (left === null || right === null) return expr.op === '!=';
  if (isNumber(left) && isNumber(right)) {
    switch (expr.op) {
      case '=': return left === right;
      case '!=': return left !== right;
      case '<': return left < right;
      case '>': return left > right;
      case '<=': return left <= right;
      default: return left >= right;
    }
  }
  if (ORDERING.includes(expr.op)) return false;
  const equal = pyText(left, expr.left.type === 'num') === pyText(right, expr.right.type === 'num');
  return expr.op === '=' ? equal : !equal;
}

/**
 * The names of the questions asked, given these answers: in form order, each condition
 * evaluated on the answers of the relevant questions before it (server/forms/answers.py's
 * relevant_questions). A condition that does not parse asks its question (the office editor
 * shows the error beside it).
 */
export function relevantQuestions(questions, values) {
  const seen = {};
  const asked = [];
  for (const q of questions) {
    let shown = true;
    if (q.relevant) {
      try { shown = evaluate(parse(q.relevant), seen); } catch (error) {
        if (!(error instanceof ConditionError)) throw error;
      }
    }
    if (shown) {
      asked.push(q.name);
      if (Object.prototype.hasOwnProperty.call(values, q.name)) seen[q.name] = values[q.name];
    }
  }
  return asked;
}
