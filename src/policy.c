/* policy.c: the decision tables of policy.h. */
#include "policy.h"

sy_retry_kind sy_policy_retry_kind(sy_class c) {
  switch (c) {
  case SY_CLASS_RATE_LIMIT:
  case SY_CLASS_OVERLOADED:
  case SY_CLASS_SERVER:
  case SY_CLASS_TIMEOUT:
  case SY_CLASS_NETWORK:
  case SY_CLASS_CONFLICT:
  case SY_CLASS_BAD_RESPONSE: return SY_RETRY_ANY;
  case SY_CLASS_AUTH:
  case SY_CLASS_QUOTA: return SY_RETRY_MOVE_ON;
  default: return SY_RETRY_NEVER;
  }
}

int sy_policy_retry_limit(const sy_settings *s, const sy_deployment *d, int request_retries,
                          sy_class c) {
  if (c <= SY_CLASS_OK || c >= SY_CLASS_COUNT) return 0;
  if (request_retries != SY_UNSET) return sy_policy_retry_kind(c) ? request_retries : 0;
  if (d && d->retry_policy[c] != SY_UNSET) return d->retry_policy[c];
  if (s->retry_policy[c] != SY_UNSET) return s->retry_policy[c];
  if (sy_policy_retry_kind(c) == SY_RETRY_NEVER) return 0;
  if (d && d->num_retries != SY_UNSET) return d->num_retries;
  return s->num_retries;
}

sy_ms sy_policy_backoff_ms(const sy_settings *s, int retry, sy_ms retry_after_ms, double unit) {
  if (retry_after_ms >= 0) {
    if (retry_after_ms > s->retry_after_max_ms) return -1;
    return retry_after_ms > s->retry_after_ms ? retry_after_ms : s->retry_after_ms;
  }
  sy_ms base = s->backoff_initial_ms;
  for (int i = 0; i < retry && base < s->backoff_max_ms; i++)
    base *= 2;
  if (base > s->backoff_max_ms) base = s->backoff_max_ms;
  if (base < s->retry_after_ms) base = s->retry_after_ms;
  return base / 2 + unit * (base / 2);
}

sy_cool_kind sy_policy_cool_kind(sy_class c) {
  switch (c) {
  case SY_CLASS_RATE_LIMIT:
  case SY_CLASS_AUTH:
  case SY_CLASS_NOT_FOUND:
  case SY_CLASS_QUOTA: return SY_COOL_AT_ONCE;
  case SY_CLASS_OVERLOADED:
  case SY_CLASS_SERVER:
  case SY_CLASS_TIMEOUT:
  case SY_CLASS_NETWORK:
  case SY_CLASS_CONFLICT:
  case SY_CLASS_BAD_RESPONSE: return SY_COOL_COUNTED;
  default: return SY_COOL_NEVER;
  }
}

int sy_policy_allowed_fails(const sy_settings *s, sy_class c) {
  if (c > SY_CLASS_OK && c < SY_CLASS_COUNT && s->allowed_fails_policy[c] != SY_UNSET)
    return s->allowed_fails_policy[c];
  return s->allowed_fails;
}

sy_ms sy_policy_cooldown_ms(const sy_settings *s, const sy_deployment *d, sy_ms retry_after_ms) {
  if (s->disable_cooldowns) return 0;
  if (d && d->cooldown_ms != SY_UNSET) return d->cooldown_ms;
  if (retry_after_ms >= 0) return retry_after_ms;
  return s->cooldown_ms;
}

const sy_fallback_list *sy_policy_fallback_list(const sy_settings *s, sy_class c) {
  if (c == SY_CLASS_CONTEXT_WINDOW && s->context_window_fallbacks.nrules)
    return &s->context_window_fallbacks;
  if (c == SY_CLASS_CONTENT_POLICY && s->content_policy_fallbacks.nrules)
    return &s->content_policy_fallbacks;
  return &s->fallbacks;
}

int sy_policy_client_status(sy_class c, int upstream_status) {
  switch (c) {
  case SY_CLASS_OK: return 200;
  case SY_CLASS_RATE_LIMIT:
  case SY_CLASS_QUOTA: return 429;
  case SY_CLASS_CONTEXT_WINDOW:
  case SY_CLASS_CONTENT_POLICY: return 400;
  case SY_CLASS_AUTH: return 401;
  case SY_CLASS_NOT_FOUND: return 404;
  case SY_CLASS_BAD_REQUEST:
    return upstream_status >= 400 && upstream_status < 500 ? upstream_status : 400;
  case SY_CLASS_CONFLICT: return 409;
  case SY_CLASS_TIMEOUT: return 504;
  default: return 502; /* overloaded, server, network, bad_response */
  }
}

const char *sy_policy_error_type(sy_class c) {
  switch (c) {
  case SY_CLASS_RATE_LIMIT:
  case SY_CLASS_QUOTA: return "rate_limit_error";
  case SY_CLASS_CONTEXT_WINDOW:
  case SY_CLASS_CONTENT_POLICY:
  case SY_CLASS_NOT_FOUND:
  case SY_CLASS_BAD_REQUEST: return "invalid_request_error";
  case SY_CLASS_AUTH: return "authentication_error";
  case SY_CLASS_TIMEOUT: return "timeout_error";
  default: return "api_error";
  }
}

const char *sy_policy_error_code(sy_class c) {
  switch (c) {
  case SY_CLASS_RATE_LIMIT: return "rate_limit_exceeded";
  case SY_CLASS_QUOTA: return "insufficient_quota";
  case SY_CLASS_CONTEXT_WINDOW: return "context_length_exceeded";
  case SY_CLASS_CONTENT_POLICY: return "content_policy_violation";
  case SY_CLASS_AUTH: return "invalid_api_key";
  case SY_CLASS_NOT_FOUND: return "model_not_found";
  case SY_CLASS_BAD_REQUEST: return "bad_request";
  case SY_CLASS_CONFLICT: return "conflict";
  case SY_CLASS_OVERLOADED: return "upstream_overloaded";
  case SY_CLASS_TIMEOUT: return "timeout";
  case SY_CLASS_NETWORK: return "upstream_unreachable";
  case SY_CLASS_BAD_RESPONSE: return "upstream_bad_response";
  default: return "upstream_error";
  }
}
