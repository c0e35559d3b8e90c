import {
  type AnyAnswer,
  type IntrospectionAnswer,
  type IntrospectionRequest,
  requestKey,
} from './requests.js';

/**
 * The answers a render reads. Rendering is synchronous (the Jinja engine calls `run_query` and
 * must get a value back), while the warehouse is asynchronous; so a render that asks something
 * not yet known gets a stand-in (an empty result, no columns, no relation), the question is
 * recorded, and the render is done again once the warehouse has answered.
 */
export class IntrospectionAnswers {
  private readonly known = new Map<string, unknown>();
  /** Questions asked in the current pass that had no answer yet. */
  readonly pending = new Map<string, IntrospectionRequest>();

  /** The answer to `request`, or the stand-in while it is pending. */
  ask<R extends IntrospectionRequest>(request: R): IntrospectionAnswer<R> {
    const key = requestKey(request);
    if (this.known.has(key)) return this.known.get(key) as IntrospectionAnswer<R>;
    this.pending.set(key, request);
    return standIn(request) as IntrospectionAnswer<R>;
  }

  /** Records the warehouse's answer to one request. */
  answer(request: IntrospectionRequest, value: AnyAnswer): void {
    this.known.set(requestKey(request), value);
  }

  /** How many questions have been answered. */
  get size(): number {
    return this.known.size;
  }
}

/**
 * What a question answers before the warehouse has: an empty result, no columns, no relation. Also
 * what compile time (`execute` false, no warehouse) answers when a template asks anyway.
 */
export function standIn(request: IntrospectionRequest): AnyAnswer {
  if (request.kind === 'query') return { columns: [], rows: [] };
  if (request.kind === 'columns' || request.kind === 'relations') return [];
  return null;
}

/** Answers a batch of questions (see `createPgIntrospector`). */
export type Introspector = (requests: IntrospectionRequest[]) => Promise<AnyAnswer[]>;

/** What {@link renderWithAnswers} did: the SQL and how many renders and warehouse round trips it took. */
export interface RenderedWithAnswers<T = string> {
  sql: T;
  passes: number;
  questions: number;
}

/**
 * Renders until a pass asks nothing new: each pass renders with the answers so far; questions it
 * could not answer are sent to the warehouse in one batch, and the render is done again. An error
 * in a pass that still had unanswered questions is expected (a macro raising on the stand-in's
 * empty column list) and not reported; an error in a pass that asked nothing new is the render's
 * error. A template whose questions depend on earlier answers takes one pass per level
 * (`dbt_utils.star(ref('x'))`: two passes, one round trip).
 *
 * @example
 * const { sql, passes } = await renderWithAnswers((answers) => renderNode(answers), createPgIntrospector(pool));
 */
export async function renderWithAnswers<T = string>(
  render: (answers: IntrospectionAnswers) => T,
  introspect: Introspector,
  options: { maxPasses?: number; signal?: AbortSignal } = {},
): Promise<RenderedWithAnswers<T>> {
  const maxPasses = options.maxPasses ?? 20;
  const answers = new IntrospectionAnswers();
  for (let pass = 1; pass <= maxPasses; pass++) {
    options.signal?.throwIfAborted();
    answers.pending.clear();
    let sql: T | undefined;
    let failure: unknown;
    try {
      sql = render(answers);
    } catch (error) {
      failure = error;
    }
    if (answers.pending.size === 0) {
      if (sql === undefined) throw failure;
      return { sql, passes: pass, questions: answers.size };
    }
    const asked = [...answers.pending.values()];
    const replies = await introspect(asked);
    asked.forEach((request, i) => {
      answers.answer(request, replies[i] as AnyAnswer);
    });
  }
  throw new Error(`rendering still asked the warehouse new questions after ${maxPasses} passes`);
}
