/**
 * DynamoDB's documented request limits, checked on the client before a request
 * is sent, so that code AWS would refuse is refused locally too.
 *
 * *Why:* dynalite (the embedded emulator) ignores several of them: it accepts a
 * 7 KB UpdateExpression, a 300-character placeholder, an IN with 101 operands, a
 * 65,536-byte attribute name, an item nested 41 levels deep (all verified against
 * dynalite 4.0.0, see dynamoDbLimits.test.ts). Code tested only locally then fails
 * in production with a ValidationException.
 *
 * Only limits dynalite does NOT enforce are checked here. The ones it does enforce
 * (400 KB item on PutItem/UpdateItem/BatchWriteItem, 2,048-byte partition key,
 * 1,024-byte sort key, 25 writes per BatchWriteItem, 100 keys per BatchGetItem,
 * 1 MB Query/Scan pages) are left to it, and the tests pin that it still does.
 * Limits that are about the response, not the request (BatchGetItem's 16 MB,
 * TransactGetItems' 4 MB), cannot be checked before sending and are not.
 *
 * Every count here is a lower bound of what DynamoDB counts: a check may miss a
 * request AWS refuses, but never refuses one AWS accepts.
 *
 * Sources (fetched 2026): the developer guide's constraints page,
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html
 * (formerly "Service, account, and table quotas", ServiceQuotas.html / Limits.html),
 * cited below as CONSTRAINTS#anchor. Messages are AWS's own where a capture of
 * them was found (cited); the others are marked "wording not confirmed".
 */
import { DynamoDBServiceException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** CONSTRAINTS#limits-expression-parameters-lengths: "The maximum length of any expression string is 4 KB." Bytes of UTF-8, 4,096 accepted, 4,097 refused. */
export const expressionBytesMax = 4096;

/** CONSTRAINTS#limits-expression-parameters-lengths: "any single expression attribute name or expression attribute value is 255 bytes. For example, `#name` is 5 bytes". The placeholder, prefix included. */
export const placeholderBytesMax = 255;

/** CONSTRAINTS#limits-expression-parameters-lengths: "all substitution variables in an expression is 2 MB ... the sum of the lengths of all ExpressionAttributeNames and ExpressionAttributeValues". */
export const substitutionBytesMax = 2 * 1024 * 1024;

/**
 * CONSTRAINTS#limits-expression-parameters-operators: "The maximum number of operators or
 * functions allowed in an UpdateExpression is 300". DynamoDB applies it to condition and filter
 * expressions too ("Invalid ConditionExpression: The expression contains too many operators;
 * operator count: 301", scylladb test/alternator/test_limits.py run against AWS, and
 * aws/aws-sdk-js#3721 for a FilterExpression).
 */
export const operatorsPerExpressionMax = 300;

/** CONSTRAINTS#limits-expression-parameters-operators: "The maximum number of operands for the IN comparator is 100." */
export const inOperandsMax = 100;

/**
 * CONSTRAINTS#limits-naming-rules: "an attribute name must be at least one character long, but
 * no greater than 64 KB long". AWS accepts 65,535 bytes and refuses 65,536 (scylladb
 * test_limits.py::test_limit_attribute_length_nonkey_bad, run against AWS).
 */
export const attributeNameBytesMax = 65_535;

/**
 * CONSTRAINTS#limits-attributes-nested-depth: "DynamoDB supports nested attributes up to 32 levels
 * deep." Counted with the innermost value as a level: AWS accepts a scalar inside 31 maps and
 * refuses it inside 32 (captured against AWS in nubo-db/dynoxide#110).
 */
export const nestingLevelsMax = 32;

/** CONSTRAINTS#limits-dynamodb-transactions: "A transaction cannot contain more than 100 unique items." */
export const transactionItemsMax = 100;

/** CONSTRAINTS#limits-dynamodb-transactions: "A transaction cannot contain more than 4 MB of data." */
export const transactionBytesMax = 4 * 1024 * 1024;

/** The expression parameters the limits apply to (CONSTRAINTS#limits-expression-parameters, plus KeyConditionExpression). */
const expressionParameters = [
  'UpdateExpression',
  'ConditionExpression',
  'KeyConditionExpression',
  'FilterExpression',
  'ProjectionExpression',
] as const;
type ExpressionParameter = (typeof expressionParameters)[number];

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
const utf8Bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * The first limit the request breaks, as the message DynamoDB answers with, or
 * undefined when it breaks none. `commandName` is the operation ("UpdateItem") or the
 * SDK command ("UpdateItemCommand"); `input` is the low-level (marshalled) input.
 */
export function dynamoDbLimitViolation(commandName: string, input: Record<string, unknown>): string | undefined {
  const operation = commandName.replace(/Command$/, '');
  if (operation === 'TransactWriteItems' || operation === 'TransactGetItems') {
    const items = Array.isArray(input.TransactItems) ? (input.TransactItems as unknown[]) : [];
    if (items.length > transactionItemsMax) {
      // AWS's model-validation wording; it also quotes the whole value, left out here.
      return `1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to ${transactionItemsMax}`;
    }
  }
  if (operation === 'TransactWriteItems') {
    // Only Put items are known before the write; the items an Update produces are not.
    let bytes = 0;
    for (const action of requestScopes(operation, input)) if (isObject(action.Item)) bytes += itemBytes(action.Item);
    if (bytes > transactionBytesMax) {
      // Wording not confirmed.
      return `Transaction request cannot include more than 4 MB of data; aggregate item size: ${bytes}`;
    }
  }
  for (const scope of requestScopes(operation, input)) {
    const violation = scopeViolation(scope);
    if (violation) return violation;
  }
  return undefined;
}

/**
 * The parts of a request that each carry their own expressions and substitution maps:
 * the request itself, or each table of a BatchGetItem, each write of a BatchWriteItem,
 * each action of a transaction.
 */
function requestScopes(operation: string, input: Json): Json[] {
  switch (operation) {
    case 'BatchGetItem':
      return isObject(input.RequestItems) ? Object.values(input.RequestItems).filter(isObject) : [];
    case 'BatchWriteItem': {
      if (!isObject(input.RequestItems)) return [];
      const writes = Object.values(input.RequestItems).flatMap((w) => (Array.isArray(w) ? (w as unknown[]) : []));
      return writes.filter(isObject).flatMap((w) => [w.PutRequest, w.DeleteRequest].filter(isObject));
    }
    case 'TransactWriteItems':
    case 'TransactGetItems': {
      const items = Array.isArray(input.TransactItems) ? (input.TransactItems as unknown[]) : [];
      return items.filter(isObject).flatMap((a) => [a.Put, a.Update, a.Delete, a.ConditionCheck, a.Get].filter(isObject));
    }
    default:
      return [input];
  }
}

function scopeViolation(scope: Json): string | undefined {
  const names = isObject(scope.ExpressionAttributeNames) ? scope.ExpressionAttributeNames : {};
  const values = isObject(scope.ExpressionAttributeValues) ? scope.ExpressionAttributeValues : {};

  for (const [map, entries] of [['ExpressionAttributeNames', names], ['ExpressionAttributeValues', values]] as const) {
    for (const key of Object.keys(entries)) {
      if (utf8Bytes(key) > placeholderBytesMax) {
        // Wording not confirmed (AWS's other key errors read "<map> contains invalid key: <reason>; key: ...").
        return `${map} contains invalid key: Key length exceeds the maximum allowed length of ${placeholderBytesMax} bytes; key: "${key}"`;
      }
    }
  }

  let substitutionBytes = 0;
  for (const [key, name] of Object.entries(names)) substitutionBytes += utf8Bytes(key) + (typeof name === 'string' ? utf8Bytes(name) : 0);
  for (const [key, value] of Object.entries(values)) substitutionBytes += utf8Bytes(key) + attributeValueBytes(value);
  if (substitutionBytes > substitutionBytesMax) {
    // Wording not confirmed.
    return `ExpressionAttributeNames and ExpressionAttributeValues exceed the maximum allowed size of 2 MB; size: ${substitutionBytes}`;
  }

  for (const parameter of expressionParameters) {
    const expression = scope[parameter];
    if (typeof expression !== 'string') continue;
    const violation = expressionViolation(parameter, expression);
    if (violation) return violation;
  }

  // Attribute names: the item's, the names placeholders stand for, and map keys inside values.
  for (const name of Object.values(names)) {
    if (typeof name === 'string' && utf8Bytes(name) > attributeNameBytesMax) return attributeNameTooLarge;
  }
  const stored: unknown[] = [];
  if (isObject(scope.Item)) stored.push(...Object.values(scope.Item));
  if (isObject(scope.AttributeUpdates)) stored.push(...Object.values(scope.AttributeUpdates).map((u) => (isObject(u) ? u.Value : undefined)));
  const namedKeys = [
    ...(isObject(scope.Item) ? Object.keys(scope.Item) : []),
    ...(isObject(scope.AttributeUpdates) ? Object.keys(scope.AttributeUpdates) : []),
    ...(Array.isArray(scope.AttributesToGet) ? (scope.AttributesToGet as unknown[]).filter((n): n is string => typeof n === 'string') : []),
  ];
  if (namedKeys.some((n) => utf8Bytes(n) > attributeNameBytesMax)) return attributeNameTooLarge;
  if ([...stored, ...Object.values(values)].some((v) => longestMapKeyBytes(v) > attributeNameBytesMax)) return attributeNameTooLarge;

  // Nesting: what is stored. Values used only in a condition are left alone: some AWS
  // regions accept deeper ones there (paritysuite/dynamodb-conformance#90).
  const updateExpression = typeof scope.UpdateExpression === 'string' ? scope.UpdateExpression : '';
  const storedValues = [
    ...stored,
    ...Object.entries(values).filter(([key]) => usesPlaceholder(updateExpression, key)).map(([, v]) => v),
  ];
  if (storedValues.some((v) => nestingLevels(v) > nestingLevelsMax)) {
    // AWS's wording (captured in nubo-db/dynoxide#110).
    return 'Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit';
  }
  return undefined;
}

/** AWS's wording (captured in ExtendDB/extenddb#365); the number is one past the largest accepted. */
const attributeNameTooLarge = `1 validation error detected: Attribute name is too large, must be less than ${attributeNameBytesMax + 1} bytes`;

function expressionViolation(parameter: ExpressionParameter, expression: string): string | undefined {
  const bytes = utf8Bytes(expression);
  if (bytes > expressionBytesMax) {
    // AWS's wording (scylladb test_limits.py; pynamodb/PynamoDB#979).
    return `Invalid ${parameter}: Expression size has exceeded the maximum allowed size; expression size: ${bytes}`;
  }
  if (parameter === 'ProjectionExpression') return undefined;
  const operators = parameter === 'UpdateExpression' ? updateOperatorCount(expression) : conditionOperatorCount(expression);
  if (operators > operatorsPerExpressionMax) {
    // AWS's wording (scylladb/scylladb#14473, aws/aws-sdk-js#3721).
    return `Invalid ${parameter}: The expression contains too many operators; operator count: ${operators}`;
  }
  if (parameter !== 'UpdateExpression') {
    const operands = largestInOperandCount(expression);
    if (operands > inOperandsMax) {
      // AWS's wording (reapit/foundations#8255).
      return `Invalid ${parameter}: The IN operator is provided with too many operands; number of operands: ${operands}`;
    }
  }
  return undefined;
}

/**
 * Operators in an update expression, counted low: only the arithmetic `+` and `-`, the
 * documented example ("SET a = :val1 + :val2 + :val3 contains two + operators"). The `=`
 * of SET, the commas between actions and function calls are not counted: the documentation
 * does not count `=`, and whether AWS counts the rest is not known. Neither character can
 * appear in a name or placeholder, so every occurrence is an operator.
 */
export function updateOperatorCount(expression: string): number {
  let count = 0;
  for (const c of expression) if (c === '+' || c === '-') count++;
  return count;
}

/**
 * Operators in a condition, key condition or filter expression, counted low: comparators
 * (=, <>, <, <=, >, >=) and the keywords AND, OR and NOT (AWS counts "<" and "or",
 * not parentheses: scylladb test_limits.py::test_deeply_nested_expression_2). BETWEEN, IN
 * and functions are not counted (AWS does not seem to count function calls); a BETWEEN
 * still counts once, through its AND. Placeholders (#and, :or) are not keywords, and a bare
 * name cannot be AND, OR or NOT (reserved words).
 */
export function conditionOperatorCount(expression: string): number {
  const comparators = expression.match(/<>|<=|>=|<|>|=/g)?.length ?? 0;
  let keywords = 0;
  for (const token of expression.match(/[#:]?[A-Za-z0-9_]+/g) ?? []) {
    if (/^(and|or|not)$/i.test(token)) keywords++;
  }
  return comparators + keywords;
}

/** The most operands any `IN (…)` of the expression has (0 without one). */
export function largestInOperandCount(expression: string): number {
  let largest = 0;
  for (const match of expression.matchAll(/(?<![#:.\w])IN\s*\(/gi)) {
    let depth = 0;
    let operands = 1;
    for (let i = match.index + match[0].length; i < expression.length; i++) {
      const c = expression[i];
      if (c === '(') depth++;
      else if (c === ')') {
        if (depth === 0) break;
        depth--;
      } else if (c === ',' && depth === 0) operands++;
    }
    largest = Math.max(largest, operands);
  }
  return largest;
}

function usesPlaceholder(expression: string, placeholder: string): boolean {
  let from = 0;
  for (;;) {
    const at = expression.indexOf(placeholder, from);
    if (at < 0) return false;
    const next = expression[at + placeholder.length];
    if (next === undefined || !/[A-Za-z0-9_]/.test(next)) return true;
    from = at + 1;
  }
}

/**
 * Levels of an AttributeValue: 1 for a scalar or an empty list or map, one more for each
 * list or map around it.
 */
export function nestingLevels(value: unknown): number {
  if (!isObject(value)) return 0;
  const children = Array.isArray(value.L) ? (value.L as unknown[]) : isObject(value.M) ? Object.values(value.M) : [];
  let deepest = 0;
  for (const child of children) deepest = Math.max(deepest, nestingLevels(child));
  return 1 + deepest;
}

/** The longest map key (attribute name) inside an AttributeValue, in bytes. */
function longestMapKeyBytes(value: unknown): number {
  if (!isObject(value)) return 0;
  let longest = 0;
  if (isObject(value.M)) {
    for (const [key, child] of Object.entries(value.M)) longest = Math.max(longest, utf8Bytes(key), longestMapKeyBytes(child));
  } else if (Array.isArray(value.L)) {
    for (const child of value.L as unknown[]) longest = Math.max(longest, longestMapKeyBytes(child));
  }
  return longest;
}

/** An item's size as DynamoDB counts it (names and values), from below. */
export function itemBytes(item: Json): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) bytes += utf8Bytes(name) + attributeValueBytes(value);
  return bytes;
}

/**
 * An AttributeValue's size, never more than DynamoDB's: strings in UTF-8 bytes, binaries in
 * bytes, numbers one byte per two significant digits plus one, lists and maps 3 bytes plus
 * their contents ("Item sizes and formats", developerguide/CapacityUnitCalculations.html).
 */
export function attributeValueBytes(value: unknown): number {
  if (!isObject(value)) return 0;
  if (typeof value.S === 'string') return utf8Bytes(value.S);
  if (typeof value.N === 'string') return numberBytes(value.N);
  if (value.B !== undefined) return binaryBytes(value.B);
  if (Array.isArray(value.SS)) return (value.SS as unknown[]).reduce<number>((n, s) => n + (typeof s === 'string' ? utf8Bytes(s) : 0), 0);
  if (Array.isArray(value.NS)) return (value.NS as unknown[]).reduce<number>((n, s) => n + (typeof s === 'string' ? numberBytes(s) : 0), 0);
  if (Array.isArray(value.BS)) return (value.BS as unknown[]).reduce<number>((n, b) => n + binaryBytes(b), 0);
  if (Array.isArray(value.L)) return 3 + (value.L as unknown[]).reduce<number>((n, v) => n + attributeValueBytes(v), 0);
  if (isObject(value.M)) return 3 + itemBytes(value.M);
  return 1; // BOOL, NULL
}

function numberBytes(n: string): number {
  const digits = (n.split(/[eE]/)[0] ?? '').replace(/[^0-9]/g, '').replace(/^0+/, '').replace(/0+$/, '');
  return 1 + Math.ceil(digits.length / 2);
}

function binaryBytes(b: unknown): number {
  if (b instanceof Uint8Array) return b.byteLength;
  // Base64 text (a request written by hand): its decoded length.
  if (typeof b === 'string') return Buffer.from(b, 'base64').byteLength;
  return 0;
}

/** The error DynamoDB answers a refused request with, as the SDK builds it from the response. */
export function limitValidationException(message: string): DynamoDBServiceException {
  const err = new DynamoDBServiceException({ name: 'ValidationException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message });
  return Object.assign(err, { __type: 'com.amazon.coral.validate#ValidationException' });
}

/** The name of the middleware enforceDynamoDbLimits adds. */
export const dynamoDbLimitsMiddlewareName = 'enforceDynamoDbLimits';

/**
 * Makes every request of `client` (and of document clients made from it, which share its
 * middleware stack) that breaks a limit above fail with the ValidationException DynamoDB
 * would answer, before it is sent. The check runs in the build step: after the document
 * client has marshalled the input (it does so just before serialization), before the retry
 * middleware (finalizeRequest), so it is thrown once and never retried.
 */
export function enforceDynamoDbLimits(client: DynamoDBClient): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const violation = dynamoDbLimitViolation(context.commandName ?? '', args.input as Record<string, unknown>);
      if (violation) throw limitValidationException(violation);
      return next(args);
    },
    { step: 'build', priority: 'high', name: dynamoDbLimitsMiddlewareName, override: true },
  );
}
