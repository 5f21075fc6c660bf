import { Controller, Get, Inject, NotFoundException, Param, Res } from '@nestjs/common';
import type { Response } from 'express';
import { INDEX_HTML_HASH, PUBLIC_DIR, SDK_DIRS, SDK_FILE_NAME } from './demo-assets.js';
import { DEMO_OPTIONS, type DemoOptions } from './demo.constants.js';

/** Same-origin only; the socket is on this origin too. Inline: the import map alone. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  `script-src 'self' ${INDEX_HTML_HASH}`,
  "connect-src 'self' ws: wss:",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The demo page and the browser SDK it imports (the client and protocol packages' builds). */
@Controller()
export class DemoController {
  constructor(@Inject(DEMO_OPTIONS) private readonly options: DemoOptions) {}

  @Get()
  index(@Res() response: Response): void {
    response.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    sendFile(response, PUBLIC_DIR, 'index.html');
  }

  @Get('demo.js')
  script(@Res() response: Response): void {
    sendFile(response, PUBLIC_DIR, 'demo.js');
  }

  @Get('demo.css')
  styles(@Res() response: Response): void {
    sendFile(response, PUBLIC_DIR, 'demo.css');
  }

  /** What the page may offer: development sign-in and the test button, or a pasted token. */
  @Get('demo/config')
  config(): { devEndpoints: boolean } {
    return { devEndpoints: this.options.devEndpoints };
  }

  @Get('sdk/:name/:file')
  sdk(@Param('name') name: string, @Param('file') file: string, @Res() response: Response): void {
    if (!Object.hasOwn(SDK_DIRS, name) || !SDK_FILE_NAME.test(file)) throw new NotFoundException();
    sendFile(response, SDK_DIRS[name], file);
  }
}

function sendFile(response: Response, root: string, file: string): void {
  response.set('Cache-Control', 'no-cache');
  response.set('X-Content-Type-Options', 'nosniff');
  response.sendFile(file, { root, dotfiles: 'deny' }, (error?: Error) => {
    if (error && !response.headersSent) response.status(404).json({ statusCode: 404 });
  });
}
