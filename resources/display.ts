/** The display screenshot resource: a fresh, scaled screenshot of one display. */
import type { Hoody } from '../src/core/hoody.js';
import { checkDisplayId } from '../src/core/kits/display.js';
import { defineResource } from '../src/mcp/define-resource.js';
import { scaleImage } from '../src/mcp/image.js';
import { completeContainer } from './containers.js';

export const displayResources = [
  defineResource<Hoody>({
    name: 'display-screenshot',
    uri: 'hoody://containers/{container}/displays/{display}/screenshot',
    title: 'Display screenshot',
    description: 'A fresh screenshot of a container display, scaled (≤1568 px, JPEG). For clicking, use display_screenshot: it returns a frame.',
    mimeType: 'image/jpeg',
    complete: { container: completeContainer },
    async read(uri, vars, { deps, signal }) {
      const id = await deps.containerId(vars.container, signal);
      const display = checkDisplayId(/^\d{1,6}$/.test(vars.display ?? '') ? Number(vars.display) : NaN);
      const img = await scaleImage(await deps.displays.screenshot(id, display, signal), { signal });
      return { contents: [{ uri: uri.href, mimeType: img.mimeType, blob: img.data.toString('base64') }] };
    },
  }),
];
