/** A tiny REST client for the tests: JSON in, status + parsed JSON out. */
import type { TestApp } from "../helpers/app";

// Answers are read loosely in tests: the assertions are the type check.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface RestAnswer<T = Json> {
  status: number;
  body: T;
  headers: Headers;
}

export interface RestClient {
  <T = Json>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<RestAnswer<T>>;
}

/** `body` as a string is sent as is (CSV, malformed JSON); anything else as JSON. */
export function restClient(app: TestApp, apiKey: string | null): RestClient {
  return async (method, path, body, headers = {}) => {
    const isText = typeof body === "string";
    const response = await fetch(`${app.url}${path}`, {
      method,
      headers: {
        ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
        ...(body !== undefined && !isText ? { "content-type": "application/json" } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : isText ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers };
  };
}

/** An ISO-8601 instant `ms` from now. */
export const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();
