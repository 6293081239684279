import { containerTools } from './containers.js';
import { execTools } from './exec.js';
import { fileTools } from './files.js';
import { rawTools } from './raw.js';
import { serviceTools } from './services.js';
import { sqliteTools } from './sqlite.js';

/** Every tool, in catalogue order. */
export const allTools = [...containerTools, ...execTools, ...fileTools, ...serviceTools, ...sqliteTools, ...rawTools];
