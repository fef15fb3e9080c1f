export * from './charts.js';
export * from './html.js';
export * from './analysis-charts.js';
