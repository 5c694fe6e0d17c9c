// The JWT key ring on its own, with a clock we control: how long a rotated-out key keeps verifying.
import t from 'tap';
import { createJwtKeyRing, keyId } from '../core/adapters/jwt-keys.ts';

t.test('after a rotation the previous key verifies its tokens until the window closes, then never again', async (t) => {
  let now = 1_000_000;
  const ring = createJwtKeyRing('first-key', () => now);
  t.same(ring.signing(), { kid: keyId('first-key'), key: 'first-key' });
  ring.rotate('second-key', now + 900_000);
  t.equal(ring.signing().key, 'second-key', 'new tokens use the new key');
  t.equal(ring.verifying(keyId('first-key')), 'first-key', 'tokens of the previous key still verify');
  t.equal(ring.verifying(keyId('second-key')), 'second-key');
  t.equal(ring.verifying(undefined), 'second-key', 'a token without kid is checked against the current key');
  t.equal(ring.verifying('made-up'), 'second-key', 'an unknown kid gets the current key, so a foreign signature fails');
  now += 900_000;
  t.equal(ring.verifying(keyId('first-key')), 'second-key', 'past the window the previous key is retired');
  ring.rotate('third-key', now + 900_000);
  t.equal(ring.verifying(keyId('first-key')), 'third-key', 'only one previous key is kept');
  t.equal(ring.verifying(keyId('second-key')), 'second-key');
});

t.test('key ids are stable and do not reveal the key', async (t) => {
  t.equal(keyId('some key'), keyId('some key'), 'every instance names a key the same way');
  t.not(keyId('some key'), keyId('some key '));
  t.notMatch(keyId('some key'), /some/);
});
