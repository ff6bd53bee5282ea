/** What the push parsers of every git host share: commits, work items and the push event's shape. */
import { EventBuilder, repo, workItems, type ParseContext } from '../context.js';
import { isFullSha, isNullSha } from '../keys.js';
import type { EntityRef } from '../model.js';

export interface PushedCommit {
  readonly sha: string;
  readonly message?: string;
  readonly authorName?: string;
  readonly authorEmail?: string;
  readonly time?: string;
  readonly url?: string;
  readonly parents?: readonly string[];
}

export interface Push {
  readonly repositoryUrl: string;
  readonly ref: string;
  readonly before?: string;
  readonly after?: string;
  readonly pusher?: string;
  readonly commits: readonly PushedCommit[];
  readonly forced?: boolean;
}

/** Adds the repository, every pushed commit (with parents and work items) and returns the normalised repository. */
export function addPush(ctx: ParseContext, b: EventBuilder, push: Push): { repository: string; head?: EntityRef } {
  const repository = repo(ctx, push.repositoryUrl);
  b.concerns(b.entity('Repository', repository, { url: push.repositoryUrl }), 'pushed-to');
  let head: EntityRef | undefined;
  for (const c of push.commits) {
    const ref = b.commit(
      ctx,
      repository,
      c.sha,
      {
        title: c.message?.split('\n', 1)[0]?.slice(0, 200),
        authorName: c.authorName,
        authorEmail: c.authorEmail,
        authoredAt: c.time,
        url: c.url,
      },
      c.message,
    );
    for (const p of c.parents ?? []) b.relate(ref, 'PARENT', b.commit(ctx, repository, p));
    b.concerns(ref, 'pushed');
    if (push.after && c.sha.toLowerCase() === push.after.toLowerCase()) head = ref;
  }
  if (!head && push.after && isFullSha(push.after) && !isNullSha(push.after)) {
    head = b.commit(ctx, repository, push.after);
  }
  if (head) b.concerns(head, 'head');
  return head ? { repository, head } : { repository };
}

function branchOf(ref: string): string {
  return ref.replace(/^refs\/(heads|tags)\//, '');
}

export function pushProps(push: Push): Record<string, string | number | boolean | undefined> {
  return {
    ref: push.ref,
    branch: push.ref.startsWith('refs/heads/') ? branchOf(push.ref) : undefined,
    tag: push.ref.startsWith('refs/tags/') ? branchOf(push.ref) : undefined,
    before: push.before,
    after: push.after,
    pusher: push.pusher,
    commitCount: push.commits.length,
    created: push.before !== undefined && isNullSha(push.before) ? true : undefined,
    deleted: push.after !== undefined && isNullSha(push.after) ? true : undefined,
    forced: push.forced,
  };
}

export interface ReviewChange {
  readonly repositoryUrl: string;
  readonly number: string;
  readonly title?: string;
  readonly body?: string;
  readonly url?: string;
  readonly state?: string;
  readonly sourceBranch?: string;
  readonly targetBranch?: string;
  readonly headSha?: string;
  readonly sourceRepositoryUrl?: string;
  readonly mergeSha?: string;
  readonly merged: boolean;
  readonly author?: string;
}

/** Adds a pull / merge request as a Change with its head and merge commits and the work items it names. */
export function addChange(ctx: ParseContext, b: EventBuilder, c: ReviewChange): EntityRef {
  const repository = repo(ctx, c.repositoryUrl);
  const repoRef = b.entity('Repository', repository, { url: c.repositoryUrl });
  const change = b.entity('Change', `${repository}!${c.number}`, {
    number: c.number,
    title: c.title,
    url: c.url,
    state: c.state,
    sourceBranch: c.sourceBranch,
    targetBranch: c.targetBranch,
    author: c.author,
    merged: c.merged,
  });
  b.relate(change, 'IN_REPOSITORY', repoRef);
  b.concerns(change, 'change');
  if (c.headSha) {
    const headRepo = c.sourceRepositoryUrl ? repo(ctx, c.sourceRepositoryUrl) : repository;
    const head = b.commit(ctx, headRepo, c.headSha);
    b.relate(change, 'INCLUDES', head);
    b.concerns(head, 'head');
  }
  if (c.mergeSha && c.merged && !isNullSha(c.mergeSha)) {
    const merge = b.commit(ctx, repository, c.mergeSha);
    b.relate(change, 'INCLUDES', merge);
    b.relate(change, 'MERGED_AS', merge);
    b.concerns(merge, 'merge');
  }
  const text = [c.title, c.body, c.sourceBranch].filter((t): t is string => !!t).join('\n');
  for (const wi of workItems(ctx, text, repository)) b.relate(change, 'REFERENCES', b.entity('WorkItem', wi, {}));
  return change;
}
