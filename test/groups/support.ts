/** Helpers for consumer group tests over HTTP. */
import type { HttpClient } from '../support/localStrand';
import { cluster } from '../support/localStrand';

export const groupPath = (group: string) => `${cluster}/consumer-groups/${encodeURIComponent(group)}`;

export interface Assignment {
  topic_name: string;
  partition_ids: number[];
}

export interface Member {
  id: string;
  epoch: number;
  assignment: string[];
}

export function flat(assignment: Assignment[]): string[] {
  return assignment.flatMap((a) => a.partition_ids.map((p) => `${a.topic_name}:${p}`)).sort();
}

/** A KIP-848 client over HTTP: join, heartbeat (rejoining when fenced), leave. */
export class GroupClient {
  member?: Member;

  constructor(
    private readonly http: HttpClient,
    readonly group: string,
    readonly topics: string[],
    private readonly extra: Record<string, unknown> = {},
  ) {}

  async join(memberId?: string): Promise<Member> {
    const res = await this.http.post(`${groupPath(this.group)}/heartbeat`, {
      member_id: memberId,
      member_epoch: 0,
      subscribed_topic_names: this.topics,
      ...this.extra,
    });
    if (res.status !== 200) throw new Error(`join: ${res.status} ${res.body.toString()}`);
    this.member = { id: res.json.member_id, epoch: res.json.member_epoch, assignment: flat(res.json.assignment) };
    return this.member;
  }

  /** One heartbeat; on 40922 the client drops its partitions and rejoins with its member id. */
  async beat(): Promise<Member> {
    const m = this.member!;
    const res = await this.http.post(`${groupPath(this.group)}/heartbeat`, { member_id: m.id, member_epoch: m.epoch });
    if (res.status === 409 && res.json.error_code === 40922) {
      this.member = { ...m, assignment: [] };
      return this.join(m.id);
    }
    if (res.status !== 200) throw new Error(`heartbeat: ${res.status} ${res.body.toString()}`);
    this.member = { id: m.id, epoch: res.json.member_epoch, assignment: flat(res.json.assignment) };
    return this.member;
  }

  async leave(): Promise<void> {
    const res = await this.http.post(`${groupPath(this.group)}/heartbeat`, { member_id: this.member!.id, member_epoch: -1 });
    if (res.status !== 200) throw new Error(`leave: ${res.status} ${res.body.toString()}`);
    this.member = undefined;
  }

  commit(offsets: { topic_name: string; partition_id: number; offset: number; metadata?: string }[], auth?: { member_id: string; member_epoch: number }) {
    const m = this.member!;
    return this.http.post(`${groupPath(this.group)}/offsets:commit`, {
      ...(auth ?? { member_id: m.id, member_epoch: m.epoch }),
      offsets,
    });
  }
}

/** Asserts that no partition is in two clients' current assignments. */
export function assertDisjoint(clients: GroupClient[]): void {
  const seen = new Map<string, string>();
  for (const c of clients) {
    for (const tp of c.member?.assignment ?? []) {
      const other = seen.get(tp);
      if (other) throw new Error(`${tp} is assigned to both ${other} and ${c.member!.id}`);
      seen.set(tp, c.member!.id);
    }
  }
}
