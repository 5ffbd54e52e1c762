/**
 * Serves the dashboard's files (from @teamchat/dashboard) from memory, read once on first use.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dashboardAssets, type DashboardAsset } from '@teamchat/dashboard';

/** Content-Security-Policy of the dashboard: nothing but this server (no CDN, no inline script). */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self' ws: wss:; frame-ancestors 'none'";

export class StaticAssets {
  readonly #assets: Map<string, DashboardAsset>;
  readonly #cache = new Map<string, Promise<Buffer>>();

  constructor(assets: Map<string, DashboardAsset> = dashboardAssets()) {
    this.#assets = assets;
  }

  has(path: string): boolean {
    return this.#assets.has(path);
  }

  /** Answers a GET/HEAD for `path`; resolves false when it is not an asset. */
  async serve(path: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const asset = this.#assets.get(path);
    if (!asset) return false;
    let body = this.#cache.get(asset.file);
    if (!body) {
      body = readFile(asset.file);
      this.#cache.set(asset.file, body);
      body.catch(() => this.#cache.delete(asset.file));
    }
    const bytes = await body;
    res.writeHead(200, {
      'content-type': asset.contentType,
      'content-length': bytes.length,
      'cache-control': path.startsWith('/vendor/') ? 'public, max-age=86400' : 'no-cache',
      'x-content-type-options': 'nosniff',
      ...(asset.contentType.startsWith('text/html') ? { 'content-security-policy': DASHBOARD_CSP } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : bytes);
    return true;
  }
}
