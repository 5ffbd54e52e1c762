/**
 * Random chat-like sentences for stress messages, as the original design's bots sent.
 *
 * @example
 * randomWords(Math.random, 3, 8); // 'deploy coffee the ticket is green'
 */
const WORDS = (
  'the a is it we you they this that deploy build test ship fix bug ticket review merge branch ' +
  'coffee lunch meeting standup sprint release server client room chat message latency fast slow ' +
  'green red yellow blue looks good great thanks please maybe tomorrow today now later done ' +
  'working on waiting for check again broken ready soon cool nice agreed why how what when where ' +
  'database query index cache queue socket thread worker metric graph dashboard alert pager ' +
  'weekend friday monday team plan idea draft spec doc note link'
).split(' ');

/** A sentence of `min`..`max` words drawn with `random` (0 <= random() < 1). */
export function randomWords(random: () => number, min = 3, max = 10): string {
  const n = min + Math.floor(random() * (max - min + 1));
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(WORDS[Math.floor(random() * WORDS.length)]);
  return out.join(' ');
}
