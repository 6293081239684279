import { agentResources } from './agent.js';
import { containerResources } from './containers.js';
import { displayResources } from './display.js';

export const allResources = [...containerResources, ...displayResources, ...agentResources];
