import { agentResources } from './agent.js';
import { containerResources } from './containers.js';

export const allResources = [...containerResources, ...agentResources];
