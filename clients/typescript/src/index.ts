/**
 * @overseer/client: a typed client for Overseer's HTTP and WebSocket API
 * (docs/api.md), for Node >= 18 and browsers, with no runtime dependencies.
 *
 *   import { Client } from "@overseer/client";
 *   const client = new Client("http://127.0.0.1:8080");
 *   const { job_id } = await client.submit({ tool: "sleep", params: { seconds: 2, steps: 4 } });
 *   console.log((await client.wait(job_id, { timeoutMs: 60_000 })).status); // completed
 */
export { Client, ROUTES, type Call, type ClientOptions } from "./client.js";
export {
  BadRequestError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  OverseerError,
  PayloadTooLargeError,
  ProblemError,
  StreamError,
  TooManyRequestsError,
  TransportError,
  UnauthorizedError,
  UnavailableError,
  WaitTimeout,
  type FieldError,
  type Problem,
} from "./errors.js";
export { platformWebSocket, streamUrl, Watch, type WebSocketFactory, type WebSocketLike } from "./stream.js";
export * from "./types.js";
