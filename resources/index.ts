import { containerResources } from './containers.js';

export const allResources = [...containerResources];
