/** `swagger-ui-dist` ships no types; the one function the gateway uses (its `absolute-path.js`). */
declare module 'swagger-ui-dist' {
  /** The directory holding Swagger UI's built files (`swagger-ui-bundle.js`, `swagger-ui.css`, ...). */
  export function getAbsoluteFSPath(): string;
}
