import { runProjectors } from '../shared/run.ts';
import { auditProjection, mainProjection } from './projection.ts';

await runProjectors('projector-main', 4997, async ({ pool, topics }) => [mainProjection(pool, topics), auditProjection(pool, topics)]);
