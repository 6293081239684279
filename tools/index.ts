import { agentTools } from './agent.js';
import { browserTools } from './browser.js';
import { containerTools } from './containers.js';
import { displayTools } from './display.js';
import { execTools } from './exec.js';
import { fileTools } from './files.js';
import { rawTools } from './raw.js';
import { serviceTools } from './services.js';
import { sqliteTools } from './sqlite.js';

/** Every tool, in catalogue order. */
export const allTools = [...containerTools, ...execTools, ...fileTools, ...browserTools, ...displayTools, ...agentTools, ...serviceTools, ...sqliteTools, ...rawTools];
