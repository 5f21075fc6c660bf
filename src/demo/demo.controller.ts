import {
  applyDecorators,
  Controller,
  Get,
  Header,
  Inject,
  NotFoundException,
  Param,
  StreamableFile,
} from '@nestjs/common';
import { createReadStream, statSync } from 'node:fs';
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

const HTML = 'text/html; charset=utf-8';
const JAVASCRIPT = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** The headers of every file the demo serves: checked on each load, never sniffed. */
const FileHeaders = () =>
  applyDecorators(Header('Cache-Control', 'no-cache'), Header('X-Content-Type-Options', 'nosniff'));

/** The demo page and the browser SDK it imports (the client and protocol packages' builds). */
@Controller()
export class DemoController {
  constructor(@Inject(DEMO_OPTIONS) private readonly options: DemoOptions) {}

  @Get()
  @Header('Content-Security-Policy', CONTENT_SECURITY_POLICY)
  @FileHeaders()
  index(): StreamableFile {
    return fileOf(PUBLIC_DIR, 'index.html', HTML);
  }

  @Get('demo.js')
  @FileHeaders()
  script(): StreamableFile {
    return fileOf(PUBLIC_DIR, 'demo.js', JAVASCRIPT);
  }

  @Get('demo.css')
  @FileHeaders()
  styles(): StreamableFile {
    return fileOf(PUBLIC_DIR, 'demo.css', CSS);
  }

  /** What the page may offer: development sign-in and the test button, or a pasted token. */
  @Get('demo/config')
  config(): { devEndpoints: boolean } {
    return { devEndpoints: this.options.devEndpoints };
  }

  @Get('sdk/:name/:file')
  @FileHeaders()
  sdk(@Param('name') name: string, @Param('file') file: string): StreamableFile {
    if (!Object.hasOwn(SDK_DIRS, name) || !SDK_FILE_NAME.test(file)) throw new NotFoundException();
    return fileOf(SDK_DIRS[name], file, JAVASCRIPT);
  }
}

/** A file of `dir` (a name checked by the caller: no path, no dotfile), or 404 when it is missing. */
function fileOf(dir: string, name: string, type: string): StreamableFile {
  const path = `${dir}${name}`;
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat?.isFile()) throw new NotFoundException();
  return new StreamableFile(createReadStream(path), { type, length: stat.size });
}
