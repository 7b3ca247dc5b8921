/** Kafka's topic name rules (org.apache.kafka.common.internals.Topic#validate). */
export const topicNameLengthMax = 249;
const legalChars = /^[a-zA-Z0-9._-]+$/;

/** Returns why a name is not a legal topic name, or undefined when it is. */
export function topicNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'Topic name is empty.';
  if (name === '.' || name === '..') return `Topic name cannot be '${name}'.`;
  if (name.length > topicNameLengthMax) {
    return `Topic name '${name.slice(0, 40)}…' is ${name.length} characters; at most ${topicNameLengthMax} are allowed.`;
  }
  if (!legalChars.test(name)) {
    return `Topic name '${name}' is illegal: it may contain only ASCII letters, digits, '.', '_' and '-'.`;
  }
  return undefined;
}
