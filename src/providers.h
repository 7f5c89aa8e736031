/* providers.h: the wire formats of the providers Switchyard calls.
 *
 * Per provider kind: build the upstream HTTP request from an OpenAI
 * chat-completion body, normalise the upstream answer to OpenAI's
 * chat.completion shape, and classify failures from status, headers and
 * body. Pure functions: no clock (|now| is an argument), no host calls.
 *
 * Upstream conventions (LiteLLM's):
 * - openai/<name>: POST <api_base or https://api.openai.com/v1>/chat/completions,
 *   "Authorization: Bearer <key>", body "model": "<name>".
 * - azure/<deployment>: POST <api_base>/openai/deployments/<deployment>/chat/
 *   completions?api-version=<api_version or 2024-10-21>, "api-key: <key>".
 * - anthropic/<model>: POST <api_base or https://api.anthropic.com>/v1/messages
 *   (an api_base already ending in /v1/messages is used as is), "x-api-key",
 *   "anthropic-version: 2023-06-01"; the OpenAI body is translated to the
 *   Messages API (system messages lifted out, max_tokens defaulted to 4096).
 */
#ifndef SY_PROVIDERS_H
#define SY_PROVIDERS_H

#include "cJSON.h"
#include "config.h"
#include "sy.h"

/* Where and how one attempt is sent. Strings are borrowed. */
typedef struct sy_target {
  sy_provider_kind provider;
  const char *upstream_model;
  const char *api_base;      /* NULL: provider default */
  const char *api_key;       /* NULL: no auth header */
  const char *api_version;   /* Azure; NULL: default */
  const cJSON *extra_params; /* object merged under the request's own params
                                (the request wins); may be NULL. Parsed once
                                per deployment by its owner, not per call */
  int embeddings;            /* an embeddings request, not a chat one */
} sy_target;

/* sy_provider_build_request writes the upstream request for |target|:
 * |head| receives a JSON object {"method","url","headers":{...},"stream"}
 * for the host's transport and |body| the request body bytes. |request| is
 * the OpenAI chat body with router-only keys already removed; it is read,
 * not kept or changed. |stream| asks for a streamed answer.
 * |head| carries the API key for the transport: it must never be logged.
 * With |target->embeddings| it builds the provider's embeddings call
 * (OpenAI and Azure only: Anthropic has no embeddings API).
 * Returns 0, SY_ERR_INVALID (request without messages, messages the
 * provider cannot express, embeddings from Anthropic; nothing written) or
 * SY_ERR_NOMEM (the buffers may hold part of the request). Buffers are
 * appended to; |target|'s strings and object are borrowed for the call. */
int sy_provider_build_request(const sy_target *target, const cJSON *request, int stream,
                              sy_buf *head, sy_buf *body);

/* What one upstream answer amounts to. */
typedef struct sy_outcome {
  sy_class cls;
  int status;           /* upstream HTTP status; 0 when none (network) */
  sy_ms retry_after_ms; /* from retry-after-ms / retry-after; -1 if absent */
  sy_buf message;       /* the upstream's error message, for error answers */
  sy_buf response;      /* on SY_CLASS_OK: OpenAI chat.completion JSON */
  double prompt_tokens; /* from usage, 0 when absent */
  double completion_tokens;
} sy_outcome;

void sy_outcome_init(sy_outcome *o);
void sy_outcome_free(sy_outcome *o);

/* sy_provider_parse_response classifies a complete upstream answer and, on
 * success, normalises it into |out->response|. |headers| is the response
 * header block as "name:value\n" lines with lower-case names (may be NULL);
 * |now| converts an HTTP-date Retry-After into a delay. A 2xx body that
 * does not parse is SY_CLASS_BAD_RESPONSE, never a crash. |out| must be
 * initialised; it is filled, and the caller frees it.
 * Returns 0 or SY_ERR_NOMEM. */
int sy_provider_parse_response(sy_provider_kind kind, int status, const char *headers,
                               size_t headers_len, const char *body, size_t body_len, sy_ms now,
                               sy_outcome *out);

/* ---- streams ----
 * sy_stream turns a provider's Server-Sent Events, split at any byte, into
 * OpenAI chat.completion.chunk frames ("data: {...}\n\n"), and tells the
 * router what it needs to decide: whether content has started (the commit
 * point), whether the stream ended cleanly, or how it failed. */
typedef struct sy_stream sy_stream;

/* A stream translator for |kind|; |now| dates Anthropic's chunks. NULL on
 * OOM. Free with sy_stream_free. */
sy_stream *sy_stream_new(sy_provider_kind kind, sy_ms now);
void sy_stream_free(sy_stream *s);

/* Feeds |n| bytes; complete frames are appended to |out|. Returns 0, or
 * SY_ERR_NOMEM. After a failure further bytes are ignored. */
int sy_stream_feed(sy_stream *s, const char *bytes, size_t n, sy_buf *out);

/* The connection ended: a stream that did not finish cleanly fails as
 * SY_CLASS_NETWORK ("stream cut"). Appends "data: [DONE]" when it did. */
int sy_stream_finish(sy_stream *s, sy_buf *out);

/* What the stream has shown so far. */
int sy_stream_has_content(const sy_stream *s); /* a content token or tool call came */
int sy_stream_done(const sy_stream *s);        /* finished cleanly */
/* SY_CLASS_OK, or the class of its failure; |msg| gets the message. */
sy_class sy_stream_failure(const sy_stream *s, const char **msg);

/* sy_provider_parse_embeddings is sy_provider_parse_response for an
 * embeddings request: a 2xx must be OpenAI's {"data":[...]} list, passed
 * on unchanged; failures are classified the same way. */
int sy_provider_parse_embeddings(sy_provider_kind kind, int status, const char *headers,
                                 size_t headers_len, const char *body, size_t body_len, sy_ms now,
                                 sy_outcome *out);

/* The value of header |name| (lower-case) in a "name:value\n" block, with
 * surrounding blanks trimmed; NULL when absent. *vlen gets its length. */
const char *sy_header_find(const char *headers, size_t len, const char *name, size_t *vlen);

/* Retry delay asked for by the headers: retry-after-ms, else retry-after as
 * seconds or an HTTP-date (relative to |now|). -1 when absent or invalid. */
sy_ms sy_retry_after_ms(const char *headers, size_t len, sy_ms now);

/* ---- rate-limit headers ----
 * What a deployment's answer says of its rate-limit budgets, so the router
 * can steer away before the deployment answers 429. Every field is -1 when
 * the answer did not say (or said something malformed), else finite, >= 0. */
typedef struct sy_ratelimit {
  double limit_requests, remaining_requests; /* per window, as the provider counts */
  double limit_tokens, remaining_tokens;
  sy_ms reset_requests_ms; /* delay from |now| until the request budget resets */
  sy_ms reset_tokens_ms;   /* same for tokens */
} sy_ratelimit;

/* sy_provider_ratelimit reads |headers| ("name:value\n" lines, lower-case
 * names, may be NULL) in one pass into |out|, whatever the provider kind:
 * - OpenAI, Azure OpenAI and compatibles: x-ratelimit-{limit,remaining,
 *   reset}-{requests,tokens}; resets are Go durations ("6m0s", "20ms",
 *   "1h2m3.5s") or plain seconds.
 * - Anthropic: anthropic-ratelimit-{requests,tokens,input-tokens,
 *   output-tokens}-{limit,remaining,reset}; resets are RFC 3339 times
 *   ("2026-12-01T21:30:00Z", fractions, +hh:mm offsets), made a delay from
 *   |now| (ms since the Unix epoch); a reset in the past is 0.
 * Either reset format is accepted in either family. When several budgets of
 * one kind are present (Anthropic's tokens, input and output tokens), the
 * most constraining one is reported whole: the lowest remaining, ties to the
 * later reset; its limit and reset come with it, never mixed across budgets.
 * Counts are plain decimals (no sign, exponent, hex, inf); values of 1e12
 * and over are junk. The first occurrence of a repeated header counts.
 * Pure; allocates nothing. */
void sy_provider_ratelimit(const char *headers, size_t len, sy_ms now, sy_ratelimit *out);

#endif /* SY_PROVIDERS_H */
