import * as fc from 'fast-check';
import { DynamoDBServiceException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { startTestStrand, type TestStrand } from '../../test/support/localStrand';
import { emulatorCredentials } from '../../local/emulatorCredentials';
import { createClients, type StorageClients } from './clients';
import {
  attributeNameBytesMax,
  dynamoDbLimitViolation,
  expressionBytesMax,
  inOperandsMax,
  limitValidationException,
  nestingLevelsMax,
  operatorsPerExpressionMax,
  placeholderBytesMax,
  substitutionBytesMax,
  transactionBytesMax,
  transactionItemsMax,
} from './dynamoDbLimits';
import { isTransientStorageError } from './storageErrors';

// How: the pure check at and just past each bound (inputs as the low-level client sends
// them: marshalled AttributeValues); then through a real local runtime, where the layer
// refuses what dynalite alone accepts, and dynalite alone still refuses what it enforces.

const s = (v: string) => ({ S: v });
const n = (v: number) => ({ N: String(v) });
const key = { pk: s('p'), sk: n(1) };
const expressionParameters = ['UpdateExpression', 'ConditionExpression', 'KeyConditionExpression', 'FilterExpression', 'ProjectionExpression'] as const;
const update = (input: Record<string, unknown>) => dynamoDbLimitViolation('UpdateItemCommand', { TableName: 't', Key: key, ...input });
/** `SET a = :v` padded with spaces to exactly `bytes` bytes. */
const paddedTo = (bytes: number, expression = 'a = :v') => expression.replace(' =', ' '.repeat(bytes - expression.length + 1) + '=');
/** A scalar inside `maps` maps. */
const nestedIn = (maps: number): Record<string, unknown> => (maps === 0 ? s('leaf') : { M: { m: nestedIn(maps - 1) } });

describe('expression strings are at most 4 KB (4,096 bytes of UTF-8)', () => {
  it.each(expressionParameters)('%s of 4,096 bytes passes, 4,097 is refused with AWS message', (parameter) => {
    const at = paddedTo(expressionBytesMax);
    expect(Buffer.byteLength(at)).toBe(4096);
    expect(update({ [parameter]: at })).toBeUndefined();
    expect(update({ [parameter]: paddedTo(expressionBytesMax + 1) })).toBe(
      `Invalid ${parameter}: Expression size has exceeded the maximum allowed size; expression size: 4097`,
    );
  });

  it('counts bytes, not characters: 2,048 two-byte characters pass, one more byte is refused', () => {
    expect(update({ ProjectionExpression: 'é'.repeat(2048) })).toBeUndefined();
    expect(update({ ProjectionExpression: 'é'.repeat(2048) + 'a' })).toMatch(/expression size: 4097$/);
  });

  it('any expression of at most 4,096 bytes passes the length check, any longer one fails it', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...expressionParameters),
        fc.integer({ min: 3800, max: 4200 }),
        fc.string({ unit: 'binary', maxLength: 200 }),
        (parameter, padding, tail) => {
          const expression = 'a'.repeat(padding) + tail;
          const refusedForSize = update({ [parameter]: expression })?.includes('Expression size has exceeded') ?? false;
          expect(refusedForSize).toBe(Buffer.byteLength(expression, 'utf8') > expressionBytesMax);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('applies to each action of a transaction and each table of a BatchGetItem', () => {
    const long = paddedTo(expressionBytesMax + 1);
    expect(
      dynamoDbLimitViolation('TransactWriteItems', {
        TransactItems: [{ Put: { TableName: 't', Item: key } }, { Update: { TableName: 't', Key: key, UpdateExpression: long } }],
      }),
    ).toMatch(/^Invalid UpdateExpression: Expression size/);
    expect(dynamoDbLimitViolation('TransactGetItems', { TransactItems: [{ Get: { TableName: 't', Key: key, ProjectionExpression: long } }] })).toMatch(
      /^Invalid ProjectionExpression/,
    );
    expect(dynamoDbLimitViolation('BatchGetItemCommand', { RequestItems: { t: { Keys: [key], ProjectionExpression: long } } })).toMatch(
      /^Invalid ProjectionExpression/,
    );
  });
});

describe('placeholders are at most 255 bytes, prefix included', () => {
  it.each([
    ['ExpressionAttributeNames', '#', 'a'],
    ['ExpressionAttributeValues', ':', s('a')],
  ] as const)('%s: a key of 255 bytes passes, 256 is refused', (map, prefix, value) => {
    const at = prefix + 'k'.repeat(placeholderBytesMax - 1);
    expect(update({ [map]: { [at]: value } })).toBeUndefined();
    expect(update({ [map]: { [at + 'k']: value } })).toMatch(new RegExp(`^${map} contains invalid key`));
  });
});

describe('all substitution variables of a request are at most 2 MB', () => {
  // Counted: every placeholder, every name, every value's size.
  const withValueOf = (bytes: number) => ({ ExpressionAttributeValues: { ':v': s('x'.repeat(bytes - 2)) } });

  it('names and values of 2 MB in all pass, one byte more is refused', () => {
    expect(update(withValueOf(substitutionBytesMax))).toBeUndefined();
    expect(update(withValueOf(substitutionBytesMax + 1))).toMatch(/exceed the maximum allowed size of 2 MB/);
  });

  it('counts names and values together', () => {
    const half = substitutionBytesMax / 2;
    // 32 names of 32 KB (each under the 64 KB name limit): 1 MB with their placeholders.
    const names = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`#n${i + 10}`, 'n'.repeat(half / 32 - 4)]));
    expect(update({ ExpressionAttributeNames: names, ...withValueOf(half) })).toBeUndefined();
    expect(update({ ExpressionAttributeNames: names, ...withValueOf(half + 1) })).toMatch(/2 MB/);
  });
});

describe('an expression has at most 300 operators (counted low, never above what AWS counts)', () => {
  it('an update expression with 300 arithmetic operators passes, 301 is refused with AWS message', () => {
    const withOperators = (count: number) => 'SET a = :v' + ' + :v'.repeat(count);
    expect(update({ UpdateExpression: withOperators(operatorsPerExpressionMax) })).toBeUndefined();
    expect(update({ UpdateExpression: withOperators(301) })).toBe(
      'Invalid UpdateExpression: The expression contains too many operators; operator count: 301',
    );
  });

  it('in an update expression, neither the = of SET nor the comma between actions is counted', () => {
    expect(update({ UpdateExpression: 'SET ' + Array.from({ length: 301 }, (_, i) => `a${i}=:v`).join(',') })).toBeUndefined();
    expect(update({ UpdateExpression: 'REMOVE ' + Array.from({ length: 500 }, (_, i) => `e[${i}]`).join(',') })).toBeUndefined();
  });

  it.each(['ConditionExpression', 'FilterExpression', 'KeyConditionExpression'])(
    'a %s with 300 comparators and logical operators passes, 301 is refused',
    (parameter) => {
      // "a<b" is one operator and each " or a<b" two: 1 + 2 * 149 = 299, then one NOT more.
      const ors = (count: number) => 'a<b' + ' or a<b'.repeat(count);
      expect(update({ [parameter]: 'not ' + ors(149) })).toBeUndefined();
      expect(update({ [parameter]: 'not not ' + ors(149) })).toBe(
        `Invalid ${parameter}: The expression contains too many operators; operator count: 301`,
      );
    },
  );

  it('parentheses, functions, placeholders named like keywords and IN are not counted; BETWEEN counts once', () => {
    expect(update({ ConditionExpression: '('.repeat(1000) + 'a<b' + ')'.repeat(1000) })).toBeUndefined();
    expect(update({ ConditionExpression: 'a < ' + 'size('.repeat(400) + 'b' + ')'.repeat(400) })).toBeUndefined();
    const joined = (count: number, clause: string, by: string) => Array.from({ length: count }, () => clause).join(by);
    // 150 comparators and 149 ORs; #and and :or are placeholders, not keywords.
    expect(update({ ConditionExpression: joined(150, '#and<:or', ' OR ') })).toBeUndefined();
    // Each BETWEEN counts through its AND, plus the AND joining it to the next: 150 + 149 = 299.
    expect(update({ ConditionExpression: joined(150, ':or BETWEEN :a AND :b', ' AND ') })).toBeUndefined();
    expect(update({ ConditionExpression: joined(151, ':or BETWEEN :a AND :b', ' AND ') })).toMatch(/operator count: 301$/);
    expect(update({ ConditionExpression: joined(250, 'x IN (:a)', ' OR ') })).toBeUndefined();
  });
});

describe('IN has at most 100 operands', () => {
  const inOf = (count: number) => `x IN (${Array.from({ length: count }, (_, i) => `:v${i}`).join(', ')})`;

  it('100 operands pass, 101 are refused with AWS message', () => {
    expect(update({ FilterExpression: inOf(inOperandsMax) })).toBeUndefined();
    expect(update({ FilterExpression: inOf(101) })).toBe(
      'Invalid FilterExpression: The IN operator is provided with too many operands; number of operands: 101',
    );
  });

  it('the largest IN of the expression counts, and a name that merely contains "in" is not one', () => {
    expect(update({ ConditionExpression: `${inOf(3)} AND ${inOf(101)}` })).toMatch(/number of operands: 101$/);
    expect(update({ ConditionExpression: `begin(${Array(150).fill(':v').join(',')}) = :x` })).toBeUndefined();
    expect(update({ ConditionExpression: `#in (${Array(150).fill(':v').join(',')})` })).toBeUndefined();
  });
});

describe('attribute names are at most 65,535 bytes', () => {
  const at = 'n'.repeat(attributeNameBytesMax);
  const past = at + 'n';
  const refused = '1 validation error detected: Attribute name is too large, must be less than 65536 bytes';

  it('an item attribute name of 65,535 bytes passes, 65,536 is refused with AWS message', () => {
    const put = (name: string) => dynamoDbLimitViolation('PutItem', { TableName: 't', Item: { ...key, [name]: n(1) } });
    expect(put(at)).toBeUndefined();
    expect(put(past)).toBe(refused);
  });

  it('also names behind placeholders, map keys inside values, and names to get', () => {
    expect(update({ UpdateExpression: 'SET #n = :v', ExpressionAttributeNames: { '#n': at } })).toBeUndefined();
    expect(update({ UpdateExpression: 'SET #n = :v', ExpressionAttributeNames: { '#n': past } })).toBe(refused);
    expect(update({ ExpressionAttributeValues: { ':v': { M: { [at]: n(1) } } } })).toBeUndefined();
    expect(update({ ExpressionAttributeValues: { ':v': { L: [{ M: { [past]: n(1) } }] } } })).toBe(refused);
    expect(dynamoDbLimitViolation('GetItem', { TableName: 't', Key: key, AttributesToGet: [past] })).toBe(refused);
    expect(
      dynamoDbLimitViolation('BatchWriteItem', { RequestItems: { t: [{ PutRequest: { Item: { ...key, x: { M: { [past]: n(1) } } } } }] } }),
    ).toBe(refused);
  });
});

describe('stored values are nested at most 32 levels deep', () => {
  const refused = 'Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit';

  it('a scalar inside 31 maps or lists passes, inside 32 is refused with AWS message', () => {
    const put = (value: Record<string, unknown>) => dynamoDbLimitViolation('PutItem', { TableName: 't', Item: { ...key, d: value } });
    expect(put(nestedIn(nestingLevelsMax - 1))).toBeUndefined();
    expect(put(nestedIn(nestingLevelsMax))).toBe(refused);
    const inLists = (lists: number): Record<string, unknown> => (lists === 0 ? n(1) : { L: [s('x'), inLists(lists - 1)] });
    expect(put(inLists(31))).toBeUndefined();
    expect(put(inLists(32))).toBe(refused);
  });

  it('a value an update expression stores is checked; one used only in a condition is not (some AWS regions accept it)', () => {
    const values = { ':deep': nestedIn(nestingLevelsMax) };
    expect(update({ UpdateExpression: 'SET d = :deep', ExpressionAttributeValues: values })).toBe(refused);
    expect(update({ UpdateExpression: 'SET d = :deeper', ConditionExpression: 'd <> :deep', ExpressionAttributeValues: values })).toBeUndefined();
  });
});

describe('a transaction has at most 100 items and 4 MB of data', () => {
  const puts = (count: number, item: Record<string, unknown> = key) => Array.from({ length: count }, () => ({ Put: { TableName: 't', Item: item } }));

  it.each(['TransactWriteItems', 'TransactGetItemsCommand'])('%s of 100 items passes, 101 is refused', (command) => {
    const items = (count: number) =>
      command.startsWith('TransactWrite') ? puts(count) : Array.from({ length: count }, () => ({ Get: { TableName: 't', Key: key } }));
    expect(dynamoDbLimitViolation(command, { TransactItems: items(transactionItemsMax) })).toBeUndefined();
    expect(dynamoDbLimitViolation(command, { TransactItems: items(101) })).toMatch(/Member must have length less than or equal to 100$/);
  });

  it('Put items of 4 MB in all pass, one byte more is refused', () => {
    // Sixteen items of one string attribute "d": 1 byte of name plus the string.
    const item = (bytes: number) => ({ Put: { TableName: 't', Item: { d: s('x'.repeat(bytes - 1)) } } });
    const sixteenth = transactionBytesMax / 16;
    const items = (last: number) => [...Array.from({ length: 15 }, () => item(sixteenth)), item(last)];
    expect(dynamoDbLimitViolation('TransactWriteItems', { TransactItems: items(sixteenth) })).toBeUndefined();
    expect(dynamoDbLimitViolation('TransactWriteItems', { TransactItems: items(sixteenth + 1) })).toMatch(/more than 4 MB/);
  });
});

describe('limits dynalite enforces itself are left to it', () => {
  it('a 500 KB item, a 2,049-byte partition key and 26 writes in a batch pass the check (dynalite refuses them)', () => {
    expect(dynamoDbLimitViolation('PutItem', { TableName: 't', Item: { ...key, d: s('x'.repeat(500 * 1024)) } })).toBeUndefined();
    expect(dynamoDbLimitViolation('GetItem', { TableName: 't', Key: { pk: s('p'.repeat(2049)) } })).toBeUndefined();
    const writes = Array.from({ length: 26 }, (_, i) => ({ PutRequest: { Item: { pk: s(String(i)) } } }));
    expect(dynamoDbLimitViolation('BatchWriteItem', { RequestItems: { t: writes } })).toBeUndefined();
  });
});

describe('a refused request fails as DynamoDB would answer it', () => {
  it('with a ValidationException: client fault, HTTP 400, not transient', () => {
    const err = limitValidationException('Invalid UpdateExpression: Expression size has exceeded the maximum allowed size; expression size: 4097');
    expect(err).toBeInstanceOf(DynamoDBServiceException);
    expect(err).toMatchObject({ name: 'ValidationException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    expect(err.message).toMatch(/^Invalid UpdateExpression/);
    expect(isTransientStorageError(err)).toBe(false);
  });
});

describe('through a local runtime', () => {
  let strand: TestStrand;
  /** Clients on the same dynalite without the layer: what the emulator alone accepts. */
  let raw: StorageClients;
  let table: string;
  const head = { pk: 'dynamoDbLimits#0', sk: -1 };

  beforeAll(async () => {
    strand = await startTestStrand();
    raw = createClients({ endpoint: strand.endpoints.dynamodb, credentials: emulatorCredentials, enforceLimits: false });
    table = strand.runtime.config.tables.log;
  });
  afterAll(async () => {
    raw.dynamodb.destroy();
    await strand.dispose();
  });

  const listLength = async (ddb: DynamoDBDocumentClient) =>
    ((await ddb.send(new GetCommand({ TableName: table, Key: head, ConsistentRead: true }))).Item?.e as unknown[]).length;
  /** `REMOVE e[999], e[998], …` down to e[from]: highest first, as PartitionIndex trims. */
  const removeDownTo = (from: number) => 'REMOVE ' + Array.from({ length: 1000 - from }, (_, i) => `e[${999 - i}]`).join(', ');

  it('an UpdateItem with a 5 KB UpdateExpression is refused with a ValidationException and changes nothing, though dynalite alone accepts it', async () => {
    const { ddb } = strand.runtime.clients;
    await ddb.send(new PutCommand({ TableName: table, Item: { ...head, e: Array.from({ length: 1000 }, (_, i) => i) } }));
    const expression = removeDownTo(300);
    expect(Buffer.byteLength(expression)).toBeGreaterThan(5000);

    const refused = await ddb.send(new UpdateCommand({ TableName: table, Key: head, UpdateExpression: expression })).catch((e: unknown) => e);
    expect(refused).toMatchObject({
      name: 'ValidationException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      message: `Invalid UpdateExpression: Expression size has exceeded the maximum allowed size; expression size: ${Buffer.byteLength(expression)}`,
    });
    expect(isTransientStorageError(refused)).toBe(false);
    expect(await listLength(ddb)).toBe(1000);

    // Why the layer exists: the emulator alone applies it.
    await raw.ddb.send(new UpdateCommand({ TableName: table, Key: head, UpdateExpression: expression }));
    expect(await listLength(raw.ddb)).toBe(300);
  });

  it('a refused request is never sent, so never retried', async () => {
    const clients = createClients({ endpoint: strand.endpoints.dynamodb, credentials: emulatorCredentials, maxAttempts: 3 });
    let sent = 0;
    clients.dynamodb.middlewareStack.add(
      (next) => async (args) => {
        sent++;
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'countSends' },
    );
    try {
      await expect(clients.ddb.send(new UpdateCommand({ TableName: table, Key: head, UpdateExpression: removeDownTo(0) }))).rejects.toMatchObject({
        name: 'ValidationException',
      });
      expect(sent).toBe(0);
      await clients.ddb.send(new GetCommand({ TableName: table, Key: head }));
      expect(sent).toBe(1);
    } finally {
      clients.dynamodb.destroy();
    }
  });

  it('the layer is on by default with an endpoint, and off without one', () => {
    const names = (client: DynamoDBClient) => client.middlewareStack.identify().join('\n');
    expect(names(strand.runtime.clients.dynamodb)).toMatch(/enforceDynamoDbLimits/);
    const aws = createClients({ region: 'us-east-1' });
    expect(names(aws.dynamodb)).not.toMatch(/enforceDynamoDbLimits/);
    aws.dynamodb.destroy();
  });

  describe('limits dynalite enforces itself (pinned, so a dynalite that drops one is noticed)', () => {
    const outcome = (sent: Promise<unknown>) =>
      sent.then(
        () => 'accepted',
        (e: { name?: string; message?: string }) => `${e.name}: ${e.message}`,
      );

    it('an UpdateItem list_append that grows the item past 400 KB is refused', async () => {
      const item = { pk: 'dynamoDbLimits#1', sk: -1 };
      await raw.ddb.send(new PutCommand({ TableName: table, Item: { ...item, e: ['x'.repeat(300 * 1024)] } }));
      const grow = (bytes: number) =>
        new UpdateCommand({ TableName: table, Key: item, UpdateExpression: 'SET e = list_append(e, :more)', ExpressionAttributeValues: { ':more': ['y'.repeat(bytes)] } });
      expect(await outcome(raw.ddb.send(grow(101 * 1024)))).toBe('ValidationException: Item size to update has exceeded the maximum allowed size');
      expect(await outcome(raw.ddb.send(grow(90 * 1024)))).toBe('accepted');
    });

    it('a PutItem of more than 400 KB is refused', async () => {
      const put = (bytes: number) => new PutCommand({ TableName: table, Item: { pk: 'dynamoDbLimits#2', sk: -1, d: 'x'.repeat(bytes) } });
      expect(await outcome(raw.ddb.send(put(401 * 1024)))).toBe('ValidationException: Item size has exceeded the maximum allowed size');
      expect(await outcome(raw.ddb.send(put(399 * 1024)))).toBe('accepted');
    });

    it('a BatchWriteItem of 26 writes is refused, 25 pass', async () => {
      const writes = (count: number) =>
        new BatchWriteCommand({ RequestItems: { [table]: Array.from({ length: count }, (_, i) => ({ PutRequest: { Item: { pk: 'dynamoDbLimits#3', sk: i } } })) } });
      expect(await outcome(raw.ddb.send(writes(26)))).toMatch(/^ValidationException: 1 validation error detected: .*Member must have length less than or equal to 25/);
      expect(await outcome(raw.ddb.send(writes(25)))).toBe('accepted');
    });

    it('a BatchGetItem of 101 keys is refused, 100 pass', async () => {
      const gets = (count: number) =>
        new BatchGetCommand({ RequestItems: { [table]: { Keys: Array.from({ length: count }, (_, i) => ({ pk: 'dynamoDbLimits#4', sk: i })) } } });
      expect(await outcome(raw.ddb.send(gets(101)))).toMatch(/^ValidationException: 1 validation error detected: .*less than or equal to 100/);
      expect(await outcome(raw.ddb.send(gets(100)))).toBe('accepted');
    });

    it('a partition key over 2,048 bytes and a sort key over 1,024 bytes are refused', async () => {
      expect(await outcome(raw.ddb.send(new GetCommand({ TableName: table, Key: { pk: 'p'.repeat(2049), sk: 1 } })))).toMatch(/Size of hashkey has exceeded/);
      expect(await outcome(raw.ddb.send(new GetCommand({ TableName: table, Key: { pk: 'p'.repeat(2048), sk: 1 } })))).toBe('accepted');
      const consumers = strand.runtime.config.tables.consumers;
      expect(await outcome(raw.ddb.send(new GetCommand({ TableName: consumers, Key: { pk: 'p', sk: 's'.repeat(1025) } })))).toMatch(
        /Aggregated size of all range keys has exceeded the size limit of 1024 bytes/,
      );
      expect(await outcome(raw.ddb.send(new GetCommand({ TableName: consumers, Key: { pk: 'p', sk: 's'.repeat(1024) } })))).toBe('accepted');
    });

    it('a Query page stops at 1 MB', async () => {
      const pk = 'dynamoDbLimits#5';
      for (let sk = 0; sk < 5; sk++) await raw.ddb.send(new PutCommand({ TableName: table, Item: { pk, sk, d: 'x'.repeat(300 * 1024) } }));
      const page = await raw.ddb.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': pk } }));
      expect(page.Items!.length).toBeLessThan(5);
      expect(page.LastEvaluatedKey).toBeDefined();
    });
  });
});
