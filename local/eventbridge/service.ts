import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AwsServiceError, startAwsJsonServer } from '../aws-json.ts';
import { InvalidPatternError, matchesPattern, validatePattern } from './pattern.ts';

/**
 * Local Amazon EventBridge: the AWS JSON 1.1 API (`X-Amz-Target: AWSEvents.<Op>`) for PutEvents,
 * TestEventPattern, DescribeEventBus, ListEventBuses, ListRules, DescribeRule and ListTargetsByRule,
 * with rules and targets fixed at start-up; archives (Create/Describe/List/DeleteArchive, the
 * template's archives created at start-up) and replays (Start/Describe/List/CancelReplay). Matching events are handed to `deliver` asynchronously,
 * as EventBridge does: PutEvents only acknowledges receipt.
 */

export interface RuleTarget {
  id: string;
  arn: string;
}

/** A rule has either an event pattern (it matches events) or a schedule expression (it emits "Scheduled Event"s). */
export interface LocalRule {
  name: string;
  eventBusName: string;
  eventPattern?: Record<string, unknown>;
  /** `rate(<n> minute|minutes|hour|hours|day|days)`; cron expressions are not run locally (start-up fails). */
  scheduleExpression?: string;
  targets: RuleTarget[];
}

/** An archive of a bus: the events matching its pattern (all without one) are kept for replay. */
export interface LocalArchive {
  name: string;
  /** The ARN of the bus it archives. */
  eventSourceArn: string;
  eventPattern?: Record<string, unknown>;
  description?: string;
  /** 0: indefinitely. */
  retentionDays: number;
}

/** The envelope EventBridge hands to targets. */
export interface EventEnvelope {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
  /** Set on a replayed event: the name of the replay that sent it again. */
  'replay-name'?: string;
}

/** One PutEvents entry, as the SDK sends it (`Time` arrives as epoch seconds over the wire). */
export interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  EventBusName?: string;
  Resources?: string[];
  Time?: Date | string | number;
  TraceHeader?: string;
}

export type PutEventsResultEntry = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

export interface PutEventsResult {
  FailedEntryCount: number;
  Entries: PutEventsResultEntry[];
}

export interface EventBridgeServiceOptions {
  host?: string;
  port?: number;
  region: string;
  accountId: string;
  /** Custom bus names; `default` always exists. */
  buses: string[];
  rules: LocalRule[];
  /** Archives declared by the deployment, present from the start. */
  archives?: LocalArchive[];
  deliver: (target: RuleTarget, event: EventEnvelope, rule: LocalRule) => Promise<void>;
  /** How many published events `recentEvents()` keeps. */
  historySize?: number;
}

export interface EventBridgeService {
  endpoint: string;
  port: number;
  putEvents(entries: PutEventsEntry[]): Promise<PutEventsResult>;
  /** Emits an event as an AWS service would (source `aws.*`, default bus), e.g. Step Functions status changes. */
  emitServiceEvent(event: {
    source: string;
    detailType: string;
    detail: Record<string, unknown>;
    resources: string[];
  }): void;
  recentEvents(): EventEnvelope[];
  /** Fires a schedule rule now (as its timer would), e.g. to run a sweep without waiting for it. */
  fireSchedule(ruleName: string): void;
  /** Resolves once every delivery started so far (and any they caused) has settled. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

const MAX_ENTRIES = 10;
// PutEvents caps the whole request at 256 KB.
const MAX_REQUEST_BYTES = 256 * 1024;
const DEFAULT_BUS = 'default';

// ---------------------------------------------------------------------------------------------
// Pure functions
// ---------------------------------------------------------------------------------------------

const RATE_UNITS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/**
 * The period of a `rate(...)` schedule expression in milliseconds, with EventBridge's rules: a
 * positive whole number, the singular unit for 1 and the plural otherwise.
 */
export function ratePeriodMs(expression: string): number {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (!match)
    throw new InvalidPatternError(`Unsupported schedule expression ${expression}: only rate(...) runs locally`);
  const value = Number(match[1]);
  const unit = match[2] as string;
  const singular = unit.replace(/s$/, '');
  if (value <= 0 || (value === 1) !== (unit === singular)) {
    throw new InvalidPatternError(`Parameter ScheduleExpression is not valid: ${expression}`);
  }
  return value * (RATE_UNITS[singular] as number);
}

const busArn = (region: string, account: string, name: string) =>
  `arn:aws:events:${region}:${account}:event-bus/${name}`;

const ruleArn = (region: string, account: string, rule: LocalRule) =>
  rule.eventBusName === DEFAULT_BUS
    ? `arn:aws:events:${region}:${account}:rule/${rule.name}`
    : `arn:aws:events:${region}:${account}:rule/${rule.eventBusName}/${rule.name}`;

/** Bus names may be given as a name or as an event-bus ARN. */
export const busNameOf = (nameOrArn: string): string => {
  const match = /^arn:aws[\w-]*:events:[^:]*:[^:]*:event-bus\/(.+)$/.exec(nameOrArn);
  return match?.[1] ?? nameOrArn;
};

/** ISO-8601 without milliseconds, as in EventBridge envelopes. */
export const isoSeconds = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

function parseTime(time: PutEventsEntry['Time']): Date | undefined {
  if (time === undefined || time === null) return undefined;
  // awsJson serializes timestamps as epoch seconds.
  const date = typeof time === 'number' ? new Date(time * 1000) : new Date(time);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

const failure = (ErrorCode: string, ErrorMessage: string): PutEventsResultEntry => ({ ErrorCode, ErrorMessage });

const missing = (parameter: string) =>
  failure('InvalidArgument', `Parameter ${parameter} is not valid. Reason: ${parameter} is a required argument.`);

type EntryCheck =
  | { ok: true; bus: string; detail: Record<string, unknown> }
  | { ok: false; error: PutEventsResultEntry };

/** Per-entry validation, reported in the entry's result slot the way PutEvents does. */
function checkEntry(entry: PutEventsEntry, buses: ReadonlySet<string>): EntryCheck {
  if (typeof entry.Source !== 'string' || entry.Source === '') return { ok: false, error: missing('Source') };
  if (typeof entry.DetailType !== 'string' || entry.DetailType === '') {
    return { ok: false, error: missing('DetailType') };
  }
  if (typeof entry.Detail !== 'string' || entry.Detail === '') return { ok: false, error: missing('Detail') };
  let detail: unknown;
  try {
    detail = JSON.parse(entry.Detail);
  } catch {
    return { ok: false, error: failure('MalformedDetail', 'Detail is malformed.') };
  }
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
    return { ok: false, error: failure('MalformedDetail', 'Detail is malformed.') };
  }
  if (entry.Source.startsWith('aws.')) {
    return { ok: false, error: failure('NotAuthorizedForSourceException', 'Not authorized for the source.') };
  }
  const bus = busNameOf(entry.EventBusName || DEFAULT_BUS);
  if (!buses.has(bus))
    return { ok: false, error: failure('ResourceNotFoundException', `Event bus ${bus} does not exist.`) };
  return { ok: true, bus, detail: detail as Record<string, unknown> };
}

function validateEntries(entries: unknown): PutEventsEntry[] {
  if (!Array.isArray(entries) || entries.length === 0) {
    throw new AwsServiceError(
      'ValidationException',
      "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null",
    );
  }
  if (entries.length > MAX_ENTRIES) {
    throw new AwsServiceError(
      'ValidationException',
      `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${MAX_ENTRIES}`,
    );
  }
  if (Buffer.byteLength(JSON.stringify(entries)) > MAX_REQUEST_BYTES) {
    throw new AwsServiceError('ValidationException', 'Total size of the entries in the request is over the limit.');
  }
  return entries as PutEventsEntry[];
}

function paginate<T>(items: T[], input: Record<string, unknown>): { page: T[]; NextToken?: string } {
  const start = typeof input.NextToken === 'string' ? Number.parseInt(input.NextToken, 10) || 0 : 0;
  const limit = typeof input.Limit === 'number' && input.Limit > 0 ? input.Limit : 100;
  const page = items.slice(start, start + limit);
  return start + limit < items.length ? { page, NextToken: String(start + limit) } : { page };
}

function parseJsonParameter(value: unknown, name: string, code: string): unknown {
  if (typeof value !== 'string') throw new AwsServiceError('ValidationException', `${name} is a required parameter.`);
  try {
    return JSON.parse(value);
  } catch {
    throw new AwsServiceError(code, `${name} is not valid JSON.`);
  }
}

// ---------------------------------------------------------------------------------------------
// Service
// ---------------------------------------------------------------------------------------------

export async function startEventBridgeService(options: EventBridgeServiceOptions): Promise<EventBridgeService> {
  const { region, accountId: account } = options;
  const buses = new Set([DEFAULT_BUS, ...options.buses.map(busNameOf)]);
  for (const rule of options.rules) {
    if (!buses.has(rule.eventBusName)) {
      throw new Error(`Rule ${rule.name} is attached to unknown event bus ${rule.eventBusName}`);
    }
    if ((rule.eventPattern === undefined) === (rule.scheduleExpression === undefined)) {
      throw new Error(`Rule ${rule.name} needs exactly one of an event pattern and a schedule expression`);
    }
    if (rule.eventPattern !== undefined) validatePattern(rule.eventPattern);
    if (rule.scheduleExpression !== undefined) {
      if (rule.eventBusName !== DEFAULT_BUS) throw new Error(`Schedule rule ${rule.name} must be on the default bus`);
      ratePeriodMs(rule.scheduleExpression);
    }
  }

  const historySize = options.historySize ?? 500;
  const history: EventEnvelope[] = [];
  const inFlight = new Set<Promise<void>>();

  const remember = (event: EventEnvelope) => {
    history.push(event);
    if (history.length > historySize) history.splice(0, history.length - historySize);
  };

  const deliverTo = (rule: LocalRule, event: EventEnvelope) => {
    for (const target of rule.targets) {
      // Each target gets its own copy so one consumer cannot alter what another sees.
      const copy = structuredClone(event);
      const delivery = Promise.resolve()
        .then(() => options.deliver(target, copy, rule))
        .catch((error: unknown) => {
          console.error(
            `[eventbridge] delivery of event ${event.id} to ${target.arn} (rule ${rule.name}, target ${target.id}) failed:`,
            error,
          );
        })
        .finally(() => inFlight.delete(delivery));
      inFlight.add(delivery);
    }
  };

  const dispatch = (bus: string, event: EventEnvelope) => {
    for (const rule of options.rules) {
      if (
        rule.eventPattern === undefined ||
        rule.eventBusName !== bus ||
        !matchesPattern(rule.eventPattern, event as unknown as Record<string, unknown>)
      ) {
        continue;
      }
      deliverTo(rule, event);
    }
  };

  /** What a schedule rule hands its targets each period, as EventBridge does. */
  const fireSchedule = (rule: LocalRule) => {
    const event: EventEnvelope = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account,
      time: isoSeconds(new Date()),
      region,
      resources: [ruleArn(region, account, rule)],
      detail: {},
    };
    remember(event);
    deliverTo(rule, event);
  };
  const timers = options.rules
    .filter((rule) => rule.scheduleExpression !== undefined)
    .map((rule) => {
      const timer = setInterval(() => fireSchedule(rule), ratePeriodMs(rule.scheduleExpression as string));
      timer.unref();
      return timer;
    });

  // ---- Archives and replays -------------------------------------------------------------------
  interface Archive extends LocalArchive {
    createdMs: number;
    events: { event: EventEnvelope; bus: string }[];
  }
  type ReplayState = 'STARTING' | 'RUNNING' | 'CANCELLING' | 'COMPLETED' | 'CANCELLED' | 'FAILED';
  interface Replay {
    name: string;
    description?: string;
    archive: Archive;
    destination: { Arn: string; FilterArns?: string[] };
    startMs: number;
    endMs: number;
    state: ReplayState;
    stateReason?: string;
    replayStartMs: number;
    replayEndMs?: number;
    lastReplayedMs?: number;
  }
  const archives = new Map<string, Archive>();
  const replays = new Map<string, Replay>();
  const archiveArn = (name: string) => `arn:aws:events:${region}:${account}:archive/${name}`;
  const replayArn = (name: string) => `arn:aws:events:${region}:${account}:replay/${name}`;
  const epoch = (ms: number) => ms / 1000;
  const notFound = (what: string) => new AwsServiceError('ResourceNotFoundException', `${what} does not exist.`);
  const validation = (message: string) => new AwsServiceError('ValidationException', message);

  const createArchive = (input: Record<string, unknown>) => {
    const name = input.ArchiveName;
    if (typeof name !== 'string' || !/^[.\-_A-Za-z0-9]{1,48}$/.test(name))
      throw validation('ArchiveName must be 1 to 48 letters, digits, ".", "-" or "_".');
    if (archives.has(name))
      throw new AwsServiceError('ResourceAlreadyExistsException', `Archive ${name} already exists.`);
    const source = typeof input.EventSourceArn === 'string' ? input.EventSourceArn : '';
    if (!/^arn:aws[\w-]*:events:[^:]*:[^:]*:event-bus\/.+$/.test(source) || !buses.has(busNameOf(source)))
      throw notFound(`Event bus ${busNameOf(source) || '(none)'}`);
    let eventPattern: Record<string, unknown> | undefined;
    if (input.EventPattern !== undefined) {
      eventPattern = parseJsonParameter(input.EventPattern, 'EventPattern', 'InvalidEventPatternException') as Record<
        string,
        unknown
      >;
      try {
        validatePattern(eventPattern);
      } catch (error) {
        if (error instanceof InvalidPatternError)
          throw new AwsServiceError('InvalidEventPatternException', error.message);
        throw error;
      }
    }
    const retentionDays = input.RetentionDays === undefined ? 0 : Number(input.RetentionDays);
    if (!Number.isInteger(retentionDays) || retentionDays < 0) throw validation('RetentionDays must be 0 or more.');
    const archive: Archive = {
      name,
      eventSourceArn: busArn(region, account, busNameOf(source)),
      ...(eventPattern ? { eventPattern } : {}),
      ...(typeof input.Description === 'string' ? { description: input.Description } : {}),
      retentionDays,
      createdMs: Date.now(),
      events: [],
    };
    archives.set(name, archive);
    return { ArchiveArn: archiveArn(name), State: 'ENABLED', CreationTime: epoch(archive.createdMs) };
  };
  for (const archive of options.archives ?? []) {
    createArchive({
      ArchiveName: archive.name,
      EventSourceArn: archive.eventSourceArn,
      ...(archive.eventPattern ? { EventPattern: JSON.stringify(archive.eventPattern) } : {}),
      ...(archive.description ? { Description: archive.description } : {}),
      RetentionDays: archive.retentionDays,
    });
  }

  const findArchive = (name: unknown): Archive => {
    const archive = typeof name === 'string' ? archives.get(name) : undefined;
    if (!archive) throw notFound(`Archive ${String(name)}`);
    return archive;
  };

  /** Keeps an event in every archive of its bus it matches (replayed events are not archived again). */
  const archiveEvent = (bus: string, event: EventEnvelope) => {
    if (event['replay-name'] !== undefined) return;
    for (const archive of archives.values()) {
      if (busNameOf(archive.eventSourceArn) !== bus) continue;
      if (archive.eventPattern && !matchesPattern(archive.eventPattern, event as unknown as Record<string, unknown>))
        continue;
      archive.events.push({ event: structuredClone(event), bus });
    }
  };

  const archiveSummary = (archive: Archive) => {
    const retentionMs = archive.retentionDays * 86_400_000;
    if (retentionMs > 0) {
      const oldest = Date.now() - retentionMs;
      archive.events = archive.events.filter(({ event }) => Date.parse(event.time) >= oldest);
    }
    return {
      ArchiveName: archive.name,
      EventSourceArn: archive.eventSourceArn,
      State: 'ENABLED',
      RetentionDays: archive.retentionDays,
      SizeBytes: archive.events.reduce((sum, { event }) => sum + Buffer.byteLength(JSON.stringify(event)), 0),
      EventCount: archive.events.length,
      CreationTime: epoch(archive.createdMs),
    };
  };

  const describeReplay = (replay: Replay) => ({
    ReplayName: replay.name,
    ReplayArn: replayArn(replay.name),
    ...(replay.description ? { Description: replay.description } : {}),
    State: replay.state,
    ...(replay.stateReason ? { StateReason: replay.stateReason } : {}),
    EventSourceArn: archiveArn(replay.archive.name),
    Destination: replay.destination,
    EventStartTime: epoch(replay.startMs),
    EventEndTime: epoch(replay.endMs),
    ...(replay.lastReplayedMs !== undefined ? { EventLastReplayedTime: epoch(replay.lastReplayedMs) } : {}),
    ReplayStartTime: epoch(replay.replayStartMs),
    ...(replay.replayEndMs !== undefined ? { ReplayEndTime: epoch(replay.replayEndMs) } : {}),
  });

  /** Sends the archived events of the window again, oldest first, to the bus's rules (or the named ones). */
  const runReplay = async (replay: Replay) => {
    await new Promise((resolve) => setImmediate(resolve));
    if (replay.state !== 'STARTING') return;
    replay.state = 'RUNNING';
    const bus = busNameOf(replay.destination.Arn);
    const filter = replay.destination.FilterArns;
    const rules = options.rules.filter(
      (rule) =>
        rule.eventPattern !== undefined &&
        rule.eventBusName === bus &&
        (filter === undefined || filter.length === 0 || filter.includes(ruleArn(region, account, rule))),
    );
    const window = replay.archive.events
      .filter(({ event }) => {
        const time = Date.parse(event.time);
        return time >= replay.startMs && time < replay.endMs;
      })
      .sort((a, b) => Date.parse(a.event.time) - Date.parse(b.event.time));
    for (const { event } of window) {
      if (replay.state !== 'RUNNING') break;
      const again: EventEnvelope = { ...structuredClone(event), 'replay-name': replay.name };
      for (const rule of rules)
        if (matchesPattern(rule.eventPattern as Record<string, unknown>, again as unknown as Record<string, unknown>))
          deliverTo(rule, again);
      replay.lastReplayedMs = Date.parse(event.time);
      await new Promise((resolve) => setImmediate(resolve));
    }
    replay.state = (replay.state as ReplayState) === 'CANCELLING' ? 'CANCELLED' : 'COMPLETED';
    replay.replayEndMs = Date.now();
  };

  const timeOf = (value: unknown, name: string): number => {
    const date = parseTime(value as PutEventsEntry['Time']);
    if (!date) throw validation(`${name} is a required parameter.`);
    return date.getTime();
  };

  const startReplay = (input: Record<string, unknown>) => {
    const name = input.ReplayName;
    if (typeof name !== 'string' || !/^[.\-_A-Za-z0-9]{1,64}$/.test(name))
      throw validation('ReplayName must be 1 to 64 letters, digits, ".", "-" or "_".');
    if (replays.has(name))
      throw new AwsServiceError('ResourceAlreadyExistsException', `Replay ${name} already exists.`);
    const source = typeof input.EventSourceArn === 'string' ? input.EventSourceArn : '';
    const archive = findArchive(/^arn:aws[\w-]*:events:[^:]*:[^:]*:archive\/(.+)$/.exec(source)?.[1]);
    const startMs = timeOf(input.EventStartTime, 'EventStartTime');
    const endMs = timeOf(input.EventEndTime, 'EventEndTime');
    if (endMs <= startMs) throw validation('EventEndTime must be after EventStartTime.');
    if (endMs > Date.now()) throw validation('EventEndTime cannot be in the future.');
    const destination = (input.Destination ?? {}) as { Arn?: unknown; FilterArns?: unknown };
    if (typeof destination.Arn !== 'string') throw validation('Destination.Arn is a required parameter.');
    // A replay goes back to the bus it was archived from.
    if (busNameOf(destination.Arn) !== busNameOf(archive.eventSourceArn))
      throw validation('Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.');
    const filterArns = Array.isArray(destination.FilterArns) ? destination.FilterArns.map(String) : undefined;
    for (const arn of filterArns ?? []) {
      const known = options.rules.some(
        (rule) => ruleArn(region, account, rule) === arn && rule.eventBusName === busNameOf(destination.Arn as string),
      );
      if (!known) throw notFound(`Rule ${arn}`);
    }
    const replay: Replay = {
      name,
      ...(typeof input.Description === 'string' ? { description: input.Description } : {}),
      archive,
      destination: { Arn: destination.Arn, ...(filterArns ? { FilterArns: filterArns } : {}) },
      startMs,
      endMs,
      state: 'STARTING',
      replayStartMs: Date.now(),
    };
    replays.set(name, replay);
    const running = runReplay(replay)
      .catch((error: unknown) => {
        replay.state = 'FAILED';
        replay.stateReason = (error as Error).message;
      })
      .finally(() => inFlight.delete(running));
    inFlight.add(running);
    return {
      ReplayArn: replayArn(name),
      State: 'STARTING',
      StateReason: 'Replay is starting.',
      ReplayStartTime: epoch(replay.replayStartMs),
    };
  };

  const putEvents = async (rawEntries: unknown): Promise<PutEventsResult> => {
    const entries = validateEntries(rawEntries);
    const results = entries.map((entry): PutEventsResultEntry => {
      const check = checkEntry(entry ?? {}, buses);
      if (!check.ok) return check.error;
      const event: EventEnvelope = {
        version: '0',
        id: randomUUID(),
        'detail-type': entry.DetailType as string,
        source: entry.Source as string,
        account,
        time: isoSeconds(parseTime(entry.Time) ?? new Date()),
        region,
        resources: Array.isArray(entry.Resources) ? [...entry.Resources] : [],
        detail: check.detail,
      };
      remember(event);
      archiveEvent(check.bus, event);
      dispatch(check.bus, event);
      return { EventId: event.id };
    });
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  };

  const requireBus = (nameOrArn: unknown): string => {
    const name = busNameOf(typeof nameOrArn === 'string' && nameOrArn !== '' ? nameOrArn : DEFAULT_BUS);
    if (!buses.has(name)) throw new AwsServiceError('ResourceNotFoundException', `Event bus ${name} does not exist.`);
    return name;
  };

  const describeRule = (rule: LocalRule) => ({
    Name: rule.name,
    Arn: ruleArn(region, account, rule),
    ...(rule.eventPattern !== undefined ? { EventPattern: JSON.stringify(rule.eventPattern) } : {}),
    ...(rule.scheduleExpression !== undefined ? { ScheduleExpression: rule.scheduleExpression } : {}),
    State: 'ENABLED',
    EventBusName: rule.eventBusName,
  });

  const findRule = (input: Record<string, unknown>): LocalRule => {
    const bus = requireBus(input.EventBusName);
    const rule = options.rules.find((r) => r.name === input.Name && r.eventBusName === bus);
    if (!rule) throw new AwsServiceError('ResourceNotFoundException', `Rule ${String(input.Name)} does not exist.`);
    return rule;
  };

  const byPrefix = <T extends { name: string }>(items: Iterable<T>, input: Record<string, unknown>) => {
    const prefix = typeof input.NamePrefix === 'string' ? input.NamePrefix : '';
    return [...items].filter((item) => item.name.startsWith(prefix)).sort((a, b) => a.name.localeCompare(b.name));
  };

  const operations = {
    PutEvents: (input: Record<string, unknown>) => putEvents(input.Entries),

    CreateArchive: createArchive,
    DescribeArchive: (input: Record<string, unknown>) => {
      const archive = findArchive(input.ArchiveName);
      return {
        ...archiveSummary(archive),
        ArchiveArn: archiveArn(archive.name),
        ...(archive.description ? { Description: archive.description } : {}),
        ...(archive.eventPattern ? { EventPattern: JSON.stringify(archive.eventPattern) } : {}),
      };
    },
    ListArchives: (input: Record<string, unknown>) => {
      const source = typeof input.EventSourceArn === 'string' ? input.EventSourceArn : undefined;
      const all = byPrefix(archives.values(), input).filter(
        (archive) => source === undefined || archive.eventSourceArn === source,
      );
      const { page, NextToken } = paginate(all, input);
      return { Archives: page.map(archiveSummary), NextToken };
    },
    DeleteArchive: (input: Record<string, unknown>) => {
      archives.delete(findArchive(input.ArchiveName).name);
      return {};
    },

    StartReplay: startReplay,
    DescribeReplay: (input: Record<string, unknown>) => {
      const replay = typeof input.ReplayName === 'string' ? replays.get(input.ReplayName) : undefined;
      if (!replay) throw notFound(`Replay ${String(input.ReplayName)}`);
      return describeReplay(replay);
    },
    ListReplays: (input: Record<string, unknown>) => {
      const source = typeof input.EventSourceArn === 'string' ? input.EventSourceArn : undefined;
      const all = byPrefix(replays.values(), input).filter(
        (replay) =>
          (source === undefined || archiveArn(replay.archive.name) === source) &&
          (input.State === undefined || replay.state === input.State),
      );
      const { page, NextToken } = paginate(all, input);
      return {
        Replays: page.map((replay) => {
          const {
            Description: _d,
            ReplayArn: _a,
            Destination: _t,
            ...summary
          } = describeReplay(replay) as Record<string, unknown>;
          return summary;
        }),
        NextToken,
      };
    },
    CancelReplay: (input: Record<string, unknown>) => {
      const replay = typeof input.ReplayName === 'string' ? replays.get(input.ReplayName) : undefined;
      if (!replay) throw notFound(`Replay ${String(input.ReplayName)}`);
      if (replay.state !== 'STARTING' && replay.state !== 'RUNNING')
        throw new AwsServiceError(
          'IllegalStatusException',
          `Replay ${replay.name} is not in a state that can be cancelled.`,
        );
      if (replay.state === 'STARTING') {
        replay.state = 'CANCELLED';
        replay.replayEndMs = Date.now();
      } else replay.state = 'CANCELLING';
      return { ReplayArn: replayArn(replay.name), State: 'CANCELLING' };
    },

    TestEventPattern: (input: Record<string, unknown>) => {
      const pattern = parseJsonParameter(input.EventPattern, 'EventPattern', 'InvalidEventPatternException');
      const event = parseJsonParameter(input.Event, 'Event', 'ValidationException');
      if (typeof event !== 'object' || event === null || Array.isArray(event)) {
        throw new AwsServiceError('ValidationException', 'Parameter Event is not valid.');
      }
      try {
        validatePattern(pattern);
      } catch (error) {
        if (error instanceof InvalidPatternError)
          throw new AwsServiceError('InvalidEventPatternException', error.message);
        throw error;
      }
      return { Result: matchesPattern(pattern, event as Record<string, unknown>) };
    },

    DescribeEventBus: (input: Record<string, unknown>) => {
      const name = requireBus(input.Name);
      return { Name: name, Arn: busArn(region, account, name) };
    },

    ListEventBuses: (input: Record<string, unknown>) => {
      const prefix = typeof input.NamePrefix === 'string' ? input.NamePrefix : '';
      const all = [...buses].filter((name) => name.startsWith(prefix)).sort();
      const { page, NextToken } = paginate(all, input);
      return { EventBuses: page.map((name) => ({ Name: name, Arn: busArn(region, account, name) })), NextToken };
    },

    ListRules: (input: Record<string, unknown>) => {
      const bus = requireBus(input.EventBusName);
      const prefix = typeof input.NamePrefix === 'string' ? input.NamePrefix : '';
      const rules = options.rules.filter((r) => r.eventBusName === bus && r.name.startsWith(prefix));
      const { page, NextToken } = paginate(rules, input);
      return { Rules: page.map(describeRule), NextToken };
    },

    DescribeRule: (input: Record<string, unknown>) => describeRule(findRule(input)),

    ListTargetsByRule: (input: Record<string, unknown>) => {
      const rule = findRule({ Name: input.Rule, EventBusName: input.EventBusName });
      const { page, NextToken } = paginate(rule.targets, input);
      return { Targets: page.map((t) => ({ Id: t.id, Arn: t.arn })), NextToken };
    },
  };

  const fallback = (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/events') return false;
    const body = JSON.stringify(history, null, 2);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return true;
  };

  const server = await startAwsJsonServer({
    targetPrefix: 'AWSEvents',
    jsonVersion: '1.1',
    operations,
    host: options.host,
    port: options.port,
    fallback,
  });

  const drain = async () => {
    // Deliveries may publish further events, so keep waiting until nothing is left in flight.
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  };

  return {
    endpoint: server.endpoint,
    port: server.port,
    putEvents: (entries) => putEvents(entries),
    emitServiceEvent: ({ source, detailType, detail, resources }) => {
      const event: EventEnvelope = {
        version: '0',
        id: randomUUID(),
        'detail-type': detailType,
        source,
        account,
        time: isoSeconds(new Date()),
        region,
        resources,
        detail,
      };
      remember(event);
      dispatch(DEFAULT_BUS, event);
    },
    recentEvents: () => [...history],
    fireSchedule: (ruleName) => {
      const rule = options.rules.find((r) => r.name === ruleName && r.scheduleExpression !== undefined);
      if (!rule) throw new Error(`No schedule rule named ${ruleName}`);
      fireSchedule(rule);
    },
    drain,
    close: async () => {
      for (const timer of timers) clearInterval(timer);
      await server.close();
    },
  };
}
