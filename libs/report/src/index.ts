export * from './charts.js';
export * from './html.js';
