/** The toolsets: --toolsets validation, --help, the README table and the server instructions derive from this list. */
import type { Toolset } from '../src/mcp/registry.js';

export const TOOLSETS: readonly Toolset[] = [
  { id: 'containers', description: 'projects and containers: list, create, start/stop, delete, snapshots', default: true },
  { id: 'exec', description: 'run commands; long ones become jobs to poll, type into or stop', default: true },
  { id: 'files', description: 'read, write, edit, list, search, watch and transfer container files', default: true },
  { id: 'browser', description: "the container's browser: navigate, snapshot, act, screenshot", default: true },
  { id: 'display', description: "the container's desktop: screenshot, click, type", default: true },
  { id: 'agent', description: "hand work to the container's AI agent", default: true },
  { id: 'services', description: 'supervised programs and public port URLs', default: true },
  { id: 'sqlite', description: "query the container's SQLite databases", default: false },
  { id: 'raw', description: 'any documented Hoody endpoint', default: false },
];
