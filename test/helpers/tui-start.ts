/**
 * Times `teamchat connect` from the command to a connected screen, as a person starts it: typed
 * into a shell already running in a terminal (tmux), the clock started just before the keys go in
 * (starting tmux itself, ~45 ms here, is no client's time). Used by the TUI test and by
 * `npm run bench -- footprint`.
 *
 * @example
 * const t = await timeTuiStart({ tcpPort: 5555, home, runs: 5 });
 * t.fullMs // median time until the sidebar and the room are drawn
 */
import { LatencyHistogram } from '@teamchat/stress';
import { REPO_ROOT, TEAMCHAT_BIN } from './spawn-server.js';
import { TmuxSession } from './tmux.js';

export interface TuiStartTimes {
  /** Medians: the status bar says connected (the boot frame paints it before Ink is loaded). */
  connectedMs: number;
  /** ... and the full UI (sidebar, message pane, the room's first line) is up. */
  fullMs: number;
  runs: Array<{ connectedMs: number; fullMs: number }>;
}

export async function timeTuiStart(options: {
  tcpPort: number;
  /** The client's TEAMCHAT_HOME (resume tokens): never the real home folder. */
  home: string;
  runs: number;
}): Promise<TuiStartTimes> {
  const runs: TuiStartTimes['runs'] = [];
  for (let run = 0; run < options.runs; run++) {
    // A person's terminal, not CI: with CI set (even to false) Ink renders only a final frame.
    const tmux = await TmuxSession.start(
      'env -u CI -u CONTINUOUS_INTEGRATION PS1="tc-prompt$ " bash --norc --noprofile',
      {
        width: 120,
        height: 40,
        cwd: REPO_ROOT,
        env: { TERM: 'xterm-256color', TEAMCHAT_HOME: options.home, USER: 'nobody-in-particular' },
      },
    );
    try {
      await tmux.waitFor((s) => s.includes('tc-prompt$'), 'the shell prompt');
      const t0 = Date.now();
      await tmux.sendKeys(
        `${process.execPath} ${TEAMCHAT_BIN} connect 127.0.0.1:${options.tcpPort} --nick timer${run} --room general`,
        'Enter',
      );
      const connectedMs = await tmux.timeUntil((s) => s.includes('[connected]'), t0, 'a connected status bar');
      const fullMs = await tmux.timeUntil(
        (s) => /\d #general/.test(s) && s.includes('Now talking in general'),
        t0,
        'the full UI',
      );
      runs.push({ connectedMs, fullMs });
    } finally {
      await tmux.kill();
    }
  }
  // The project's one percentile, to the millisecond.
  const median = (xs: number[]) => LatencyHistogram.ofMs(xs).summaryMs(0).p50;
  return {
    connectedMs: median(runs.map((r) => r.connectedMs)),
    fullMs: median(runs.map((r) => r.fullMs)),
    runs,
  };
}
