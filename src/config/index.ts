export * from './app-config.js';
export { ConfigError, EnvironmentVariables, parseEnvironment } from './environment.js';
