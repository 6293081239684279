import { agentTools } from './agent.js';
import { containerTools } from './containers.js';
import { execTools } from './exec.js';
import { fileTools } from './files.js';

/** Every tool, in catalogue order. */
export const allTools = [...containerTools, ...execTools, ...fileTools, ...agentTools];
