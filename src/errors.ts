// The project's error type: a stable code, the unit it comes from, where the fault lies, a message,
// what the operator can do about it, and whether retrying can heal it (auto-resume uses this).

export type ErrorScope = 'upstream' | 'downstream' | 'internal' | 'config';

export interface DMErrorInit {
  code: number;
  class: string;
  scope: ErrorScope;
  message: string;
  workaround?: string;
  retryable?: boolean;
  cause?: unknown;
}

export class DMError extends Error {
  readonly code: number;
  readonly class: string;
  readonly scope: ErrorScope;
  readonly workaround: string;
  readonly retryable: boolean;

  constructor(init: DMErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'DMError';
    this.code = init.code;
    this.class = init.class;
    this.scope = init.scope;
    this.workaround = init.workaround ?? '';
    this.retryable = init.retryable ?? false;
  }

  /** One line for a person: `[code=10002:class=binlog:scope=upstream] message. Workaround: …` */
  override toString(): string {
    const w = this.workaround ? ` Workaround: ${this.workaround}` : '';
    return `[code=${this.code}:class=${this.class}:scope=${this.scope}] ${this.message}${w}`;
  }
}

/** Binlog decoding failed at a known place; never retryable (the same bytes fail again). */
export class BinlogDecodeError extends DMError {
  constructor(
    message: string,
    readonly file: string,
    readonly pos: number,
    readonly eventType?: number,
  ) {
    super({
      code: 11001,
      class: 'binlog',
      scope: 'upstream',
      message: `binlog event at (${file}, ${pos})${eventType === undefined ? '' : ` of type ${eventType}`}: ${message}`,
      workaround:
        'Check the upstream binlog with mariadb-binlog/mysqlbinlog at this position; report it if the binlog is valid.',
    });
    this.name = 'BinlogDecodeError';
  }
}
