/* providers.c: request building, answer normalisation and failure
 * classification for OpenAI-compatible, Azure OpenAI and Anthropic. */
#include "providers.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MESSAGE 500 /* bytes of an upstream error message kept */

void sy_outcome_init(sy_outcome *o) {
  memset(o, 0, sizeof *o);
  o->retry_after_ms = -1;
  sy_buf_init(&o->message);
  sy_buf_init(&o->response);
}

void sy_outcome_free(sy_outcome *o) {
  sy_buf_free(&o->message);
  sy_buf_free(&o->response);
}

/* ---------- request building ---------- */

/* Appends |base| without trailing slashes, then |path| (no escapes), inside
 * the head's "url" string. */
static void put_url(sy_buf *b, const char *base, const char *path) {
  size_t n = strlen(base);
  while (n && base[n - 1] == '/')
    n--;
  sy_buf_json_chars(b, base, n);
  sy_buf_puts(b, path);
}

static int ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* A header member of the head: |start| (,"<name>":"<prefix>, no escapes
 * needed) then |value| and the closing quote. */
static void head_header(sy_buf *h, const char *start, const char *value) {
  sy_buf_puts(h, start);
  sy_buf_json_chars(h, value, strlen(value));
  sy_buf_putc(h, '"');
}

/* The text of a message's content: a string, or the text parts of a list. */
static void content_text(const cJSON *content, sy_buf *out) {
  if (cJSON_IsString(content)) {
    sy_buf_puts(out, content->valuestring);
    return;
  }
  const cJSON *part;
  cJSON_ArrayForEach(part, content) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(part, "text");
    if (cJSON_IsString(t)) sy_buf_puts(out, t->valuestring);
  }
}

/* A new object already attached to |array|, so it is freed with it
 * whatever fails later; NULL on OOM. */
static cJSON *new_item(cJSON *array) {
  cJSON *o = cJSON_CreateObject();
  if (o && !cJSON_AddItemToArray(array, o)) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

/* Adds |content| to an Anthropic content array as text blocks. */
static int add_text_blocks(cJSON *blocks, const cJSON *content) {
  sy_buf t;
  sy_buf_init(&t);
  content_text(content, &t);
  int ok = 1;
  if (t.len) {
    cJSON *b = new_item(blocks);
    ok = b && cJSON_AddStringToObject(b, "type", "text") &&
         cJSON_AddStringToObject(b, "text", sy_buf_cstr(&t));
  }
  ok = ok && !t.oom;
  sy_buf_free(&t);
  return ok;
}

/* Translates an OpenAI chat body into an Anthropic Messages body. */
static cJSON *anthropic_body(const sy_target *t, const cJSON *req, int stream) {
  cJSON *out = cJSON_CreateObject();
  cJSON *msgs = out ? cJSON_AddArrayToObject(out, "messages") : NULL;
  sy_buf system;
  sy_buf_init(&system);
  int ok = msgs && cJSON_AddStringToObject(out, "model", t->upstream_model);
  const cJSON *m;
  cJSON *last = NULL; /* the last message added, to merge same-role runs */
  const char *last_role = "";
  cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(req, "messages")) {
    if (!ok) break;
    const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
    const char *r = cJSON_IsString(role) ? role->valuestring : "user";
    if (!strcmp(r, "system") || !strcmp(r, "developer")) {
      if (system.len) sy_buf_puts(&system, "\n");
      content_text(content, &system);
      continue;
    }
    const char *ar = !strcmp(r, "assistant") ? "assistant" : "user";
    if (!last || strcmp(ar, last_role) != 0) {
      last = new_item(msgs);
      ok = last && cJSON_AddStringToObject(last, "role", ar) &&
           cJSON_AddArrayToObject(last, "content");
      if (!ok) break;
      last_role = ar;
    }
    cJSON *blocks = cJSON_GetObjectItemCaseSensitive(last, "content");
    if (!strcmp(r, "tool")) {
      const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "tool_call_id");
      sy_buf txt;
      sy_buf_init(&txt);
      content_text(content, &txt);
      cJSON *b = new_item(blocks);
      ok = b && cJSON_AddStringToObject(b, "type", "tool_result") &&
           cJSON_AddStringToObject(b, "tool_use_id", cJSON_IsString(id) ? id->valuestring : "") &&
           cJSON_AddStringToObject(b, "content", sy_buf_cstr(&txt)) && !txt.oom;
      sy_buf_free(&txt);
      continue;
    }
    ok = add_text_blocks(blocks, content);
    const cJSON *call;
    cJSON_ArrayForEach(call, cJSON_GetObjectItemCaseSensitive(m, "tool_calls")) {
      const cJSON *fn = cJSON_GetObjectItemCaseSensitive(call, "function");
      const cJSON *name = cJSON_GetObjectItemCaseSensitive(fn, "name");
      const cJSON *args = cJSON_GetObjectItemCaseSensitive(fn, "arguments");
      const cJSON *id = cJSON_GetObjectItemCaseSensitive(call, "id");
      cJSON *b = ok ? new_item(blocks) : NULL;
      ok = b && cJSON_AddStringToObject(b, "type", "tool_use") &&
           cJSON_AddStringToObject(b, "id", cJSON_IsString(id) ? id->valuestring : "") &&
           cJSON_AddStringToObject(b, "name", cJSON_IsString(name) ? name->valuestring : "");
      cJSON *input = ok && cJSON_IsString(args) ? cJSON_Parse(args->valuestring) : NULL;
      if (ok && !input) input = cJSON_CreateObject();
      if (ok && (!input || !cJSON_AddItemToObject(b, "input", input))) {
        cJSON_Delete(input);
        ok = 0;
      }
    }
  }
  if (ok && system.len) ok = cJSON_AddStringToObject(out, "system", sy_buf_cstr(&system)) != NULL;
  const cJSON *mt = cJSON_GetObjectItemCaseSensitive(req, "max_tokens");
  if (!cJSON_IsNumber(mt)) mt = cJSON_GetObjectItemCaseSensitive(req, "max_completion_tokens");
  if (ok)
    ok = cJSON_AddNumberToObject(out, "max_tokens", cJSON_IsNumber(mt) ? mt->valuedouble : 4096) !=
         NULL;
  static const char *const same[] = {"temperature", "top_p", "top_k"};
  for (size_t i = 0; ok && i < 3; i++) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, same[i]);
    if (cJSON_IsNumber(v)) ok = cJSON_AddNumberToObject(out, same[i], v->valuedouble) != NULL;
  }
  const cJSON *stop = cJSON_GetObjectItemCaseSensitive(req, "stop");
  if (ok && cJSON_IsString(stop)) {
    cJSON *arr = cJSON_AddArrayToObject(out, "stop_sequences");
    cJSON *str = arr ? cJSON_CreateString(stop->valuestring) : NULL;
    ok = str && cJSON_AddItemToArray(arr, str);
    if (!ok) cJSON_Delete(str);
  } else if (ok && cJSON_IsArray(stop)) {
    cJSON *copy = cJSON_Duplicate(stop, 1);
    ok = copy && cJSON_AddItemToObject(out, "stop_sequences", copy);
    if (!ok) cJSON_Delete(copy);
  }
  const cJSON *user = cJSON_GetObjectItemCaseSensitive(req, "user");
  if (ok && cJSON_IsString(user)) {
    cJSON *md = cJSON_AddObjectToObject(out, "metadata");
    ok = md && cJSON_AddStringToObject(md, "user_id", user->valuestring);
  }
  const cJSON *tools = cJSON_GetObjectItemCaseSensitive(req, "tools"), *tool;
  if (ok && cJSON_IsArray(tools)) {
    cJSON *arr = cJSON_AddArrayToObject(out, "tools");
    ok = arr != NULL;
    cJSON_ArrayForEach(tool, tools) {
      const cJSON *fn = cJSON_GetObjectItemCaseSensitive(tool, "function");
      const cJSON *name = cJSON_GetObjectItemCaseSensitive(fn, "name");
      const cJSON *desc = cJSON_GetObjectItemCaseSensitive(fn, "description");
      const cJSON *params = cJSON_GetObjectItemCaseSensitive(fn, "parameters");
      cJSON *a = ok ? new_item(arr) : NULL;
      ok = a && cJSON_AddStringToObject(a, "name", cJSON_IsString(name) ? name->valuestring : "");
      if (ok && cJSON_IsString(desc))
        ok = cJSON_AddStringToObject(a, "description", desc->valuestring) != NULL;
      cJSON *schema = !ok ? NULL : params ? cJSON_Duplicate(params, 1) : cJSON_CreateObject();
      if (ok && (!schema || !cJSON_AddItemToObject(a, "input_schema", schema))) {
        cJSON_Delete(schema);
        ok = 0;
      }
    }
    const cJSON *choice = cJSON_GetObjectItemCaseSensitive(req, "tool_choice");
    if (ok && choice) {
      cJSON *c = cJSON_AddObjectToObject(out, "tool_choice");
      const cJSON *fn = cJSON_GetObjectItemCaseSensitive(choice, "function");
      const cJSON *name = cJSON_GetObjectItemCaseSensitive(fn, "name");
      if (!c)
        ok = 0;
      else if (cJSON_IsString(name))
        ok = cJSON_AddStringToObject(c, "type", "tool") &&
             cJSON_AddStringToObject(c, "name", name->valuestring);
      else
        ok = cJSON_AddStringToObject(c, "type",
                                     cJSON_IsString(choice) &&
                                             !strcmp(choice->valuestring, "required")
                                         ? "any"
                                         : "auto") != NULL;
    }
  }
  if (ok && stream) ok = cJSON_AddTrueToObject(out, "stream") != NULL;
  if (system.oom) ok = 0;
  sy_buf_free(&system);
  if (!ok) {
    cJSON_Delete(out);
    return NULL;
  }
  return out;
}

static int same_key(const char *a, const char *b) { return a[0] == b[0] && !strcmp(a, b); }

/* Keys the OpenAI body gets from the router, never from the request. */
static int router_key(const char *k) {
  return same_key(k, "model") || same_key(k, "stream") || same_key(k, "stream_options");
}

/* Whether a later member of |v|'s object has |v|'s key. */
static int repeated_later(const cJSON *v) {
  for (const cJSON *w = v->next; w; w = w->next)
    if (same_key(w->string, v->string)) return 1;
  return 0;
}

/* Whether the request's own member |k| replaces the extra param |k|. */
static int request_sets(const cJSON *req, const char *k) {
  for (const cJSON *v = req->child; v; v = v->next)
    if (same_key(v->string, k)) return !router_key(k);
  return 0;
}

/* Appends member |v| after *sep ('{' for the first, then ','). */
static void put_member(sy_buf *out, char *sep, const cJSON *v) {
  sy_buf_putc(out, *sep);
  *sep = ',';
  sy_buf_json_str(out, v->string, strlen(v->string));
  sy_buf_putc(out, ':');
  sy_buf_json_value(out, v);
}

/* The OpenAI body, appended to |out| straight from the parsed request: the
 * deployment's extra params the request does not set, then the request's
 * members, then the upstream model and the stream flags. Keys and order
 * are what merging into a copy of the extra params gave (a request key
 * replaces the extra param and takes the request's place, a repeated one
 * its last place; the router's model, stream and stream_options replace
 * any), without that copy, its printing and its frees: ~6,000 instructions
 * of a routed attempt (bench/callgrind.sh). A stream's stream_options keeps
 * the members of an extra stream_options object but include_usage, which
 * is always true: the router counts a stream's tokens from its usage
 * chunk. Unstreamed, there is none: OpenAI refuses stream_options without
 * stream (400). */
static void openai_body(const sy_target *t, const cJSON *req, int stream, sy_buf *out) {
  const cJSON *v;
  char sep = '{';
  cJSON_ArrayForEach(v, t->extra_params) {
    if (!router_key(v->string) && !request_sets(req, v->string)) put_member(out, &sep, v);
  }
  cJSON_ArrayForEach(v, req) {
    if (!router_key(v->string) && !repeated_later(v)) put_member(out, &sep, v);
  }
  sy_buf_putc(out, sep);
  sy_buf_puts(out, "\"model\":");
  sy_buf_json_str(out, t->upstream_model, strlen(t->upstream_model));
  if (!stream) {
    sy_buf_putc(out, '}');
    return;
  }
  sy_buf_puts(out, ",\"stream\":true,\"stream_options\":");
  const cJSON *options = cJSON_GetObjectItemCaseSensitive(t->extra_params, "stream_options");
  if (!cJSON_IsObject(options)) options = NULL;
  char inner = '{';
  cJSON_ArrayForEach(v, options) {
    if (!same_key(v->string, "include_usage") && !repeated_later(v)) put_member(out, &inner, v);
  }
  sy_buf_putc(out, inner);
  sy_buf_puts(out, "\"include_usage\":true}}");
}

int sy_provider_build_request(const sy_target *t, const cJSON *request, int stream, sy_buf *head,
                              sy_buf *body) {
  if (t->embeddings ? t->provider == SY_PROVIDER_ANTHROPIC
                    : !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(request, "messages")))
    return SY_ERR_INVALID;
  if (t->provider == SY_PROVIDER_AZURE && !t->api_base) return SY_ERR_INVALID;
  const char *path = t->embeddings ? "/embeddings" : "/chat/completions";
  sy_buf_puts(head, "{\"method\":\"POST\",\"url\":\"");
  if (t->provider == SY_PROVIDER_ANTHROPIC) {
    const char *base = t->api_base ? t->api_base : "https://api.anthropic.com";
    if (ends_with(base, "/v1/messages"))
      sy_buf_json_chars(head, base, strlen(base));
    else
      put_url(head, base, "/v1/messages");
    cJSON *b = anthropic_body(t, request, stream);
    if (!b) return SY_ERR_NOMEM;
    sy_buf_json_value(body, b);
    cJSON_Delete(b);
  } else if (t->provider == SY_PROVIDER_AZURE) {
    put_url(head, t->api_base, "/openai/deployments/");
    sy_buf_json_chars(head, t->upstream_model, strlen(t->upstream_model));
    sy_buf_puts(head, path);
    sy_buf_puts(head, "?api-version=");
    const char *version = t->api_version ? t->api_version : "2024-10-21";
    sy_buf_json_chars(head, version, strlen(version));
    openai_body(t, request, stream, body);
  } else {
    put_url(head, t->api_base ? t->api_base : "https://api.openai.com/v1", path);
    openai_body(t, request, stream && !t->embeddings, body);
  }
  sy_buf_puts(head, "\",\"headers\":{\"content-type\":\"application/json\"");
  if (t->api_key) {
    if (t->provider == SY_PROVIDER_ANTHROPIC)
      head_header(head, ",\"x-api-key\":\"", t->api_key);
    else if (t->provider == SY_PROVIDER_AZURE)
      head_header(head, ",\"api-key\":\"", t->api_key);
    else
      head_header(head, ",\"authorization\":\"Bearer ", t->api_key);
  }
  if (t->provider == SY_PROVIDER_ANTHROPIC)
    sy_buf_puts(head, ",\"anthropic-version\":\"2023-06-01\"");
  sy_buf_puts(head, stream ? "},\"stream\":true}" : "},\"stream\":false}");
  return head->oom || body->oom ? SY_ERR_NOMEM : SY_OK;
}

/* ---------- headers ---------- */

/* The header line at *p of a block ending at |end|: *name is the text
 * before its first ':' (NULL for a line without one) and *val the rest with
 * blanks and a CR trimmed. Advances *p past the line; 0 past the end. The
 * one line splitter, shared by the lookups below. */
static int next_header(const char **p, const char *end, const char **name, size_t *nlen,
                       const char **val, size_t *vlen) {
  if (!*p || *p >= end) return 0;
  const char *line = *p, *eol = memchr(line, '\n', (size_t)(end - line));
  if (!eol) eol = end;
  *p = eol < end ? eol + 1 : end;
  const char *colon = memchr(line, ':', (size_t)(eol - line));
  const char *v = colon ? colon + 1 : eol, *ve = eol;
  while (v < ve && (*v == ' ' || *v == '\t'))
    v++;
  while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
    ve--;
  *name = colon ? line : NULL;
  *nlen = colon ? (size_t)(colon - line) : 0;
  *val = v;
  *vlen = (size_t)(ve - v);
  return 1;
}

const char *sy_header_find(const char *headers, size_t len, const char *name, size_t *vlen) {
  size_t nl = strlen(name), hl;
  const char *p = headers, *end = headers ? headers + len : NULL, *h, *v;
  while (next_header(&p, end, &h, &hl, &v, vlen))
    if (h && hl == nl && memcmp(h, name, nl) == 0) return v;
  *vlen = 0;
  return NULL;
}

/* Counts and duration parts this large are junk, not a limit: the cap keeps
 * every value finite whatever the digits. */
#define MAX_NUMBER 1e12

/* A plain decimal at *p ("12", "0.5", ".5", "5."), advancing *p past it.
 * Not strtod: it would take signs, exponents ("1e400"), hex, inf and nan,
 * and it follows the locale. -1 without a digit or at MAX_NUMBER and over.
 * Fraction digits past the 15th are read but ignored. */
static double decimal(const char **p, const char *end) {
  const char *s = *p;
  double ip = 0, fp = 0, scale = 1;
  int digits = 0;
  for (; s < end && *s >= '0' && *s <= '9'; s++, digits++)
    if (ip < MAX_NUMBER) ip = ip * 10 + (*s - '0');
  if (s < end && *s == '.')
    for (s++; s < end && *s >= '0' && *s <= '9'; s++, digits++)
      if (scale < 1e15) fp = fp * 10 + (*s - '0'), scale *= 10;
  *p = s;
  return digits && ip < MAX_NUMBER ? ip + fp / scale : -1;
}

/* A value that is one decimal and nothing else, or -1. */
static double number(const char *v, size_t n) {
  const char *p = v;
  double d = decimal(&p, v + n);
  return p == v + n ? d : -1;
}

/* A Go duration ("1h2m3.5s", "6m0s", "20ms": OpenAI's resets) in ms, or a
 * unitless number as seconds; -1 if malformed. */
static double duration_ms(const char *v, size_t n) {
  static const struct {
    const char *unit;
    size_t len;
    double ms;
  } units[] = {/* "ms" before "m", which is its prefix */
               {"ms", 2, 1},           {"ns", 2, 1e-6},  {"us", 2, 1e-3}, {"\xc2\xb5s", 3, 1e-3},
               {"\xce\xbcs", 3, 1e-3}, {"h", 1, 3600e3}, {"m", 1, 60e3},  {"s", 1, 1e3}};
  const char *p = v, *end = v + n;
  double total = 0;
  if (n == 0) return -1;
  do {
    const char *start = p;
    double d = decimal(&p, end);
    if (d < 0) return -1;
    if (p == end) return start == v ? d * 1000 : -1; /* "1.5", but not "1m5" */
    size_t i = 0, nu = sizeof units / sizeof *units;
    while (i < nu && ((size_t)(end - p) < units[i].len || memcmp(p, units[i].unit, units[i].len)))
      i++;
    if (i == nu) return -1;
    total += d * units[i].ms;
    p += units[i].len;
  } while (p < end);
  return total;
}

/* Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil), for both date formats below. */
static double days_from_civil(int year, int month, int day) {
  int y = year - (month <= 2);
  int era = (y >= 0 ? y : y - 399) / 400;
  int yoe = y - era * 400;
  int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return (double)era * 146097 + doe - 719468;
}

/* A delay from |now| until |at_s| (seconds since the epoch); 0 if past. */
static sy_ms until(double at_s, sy_ms now) { return at_s * 1000 > now ? at_s * 1000 - now : 0; }

/* The two digits at |s| as a number, or -1. */
static int two(const char *s) {
  return s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' ? (s[0] - '0') * 10 + s[1] - '0'
                                                                  : -1;
}

/* Seconds since the epoch of an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37
 * GMT", fixed width), or -1. By hand rather than with sscanf, which would
 * bring the whole scanf engine into the wasm module (about 4.6 kB). */
static double http_date(const char *s, size_t n) {
  static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  if (n != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':' || memcmp(s + 25, " GMT", 4))
    return -1;
  int day = two(s + 5), c = two(s + 12), yy = two(s + 14);
  int hh = two(s + 17), mm = two(s + 20), ss = two(s + 23), month = 0;
  for (int i = 0; i < 12 && !month; i++)
    if (!memcmp(s + 8, months + 3 * i, 3)) month = i + 1;
  if (day < 1 || day > 31 || c < 0 || yy < 0 || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 ||
      ss > 60 || !month)
    return -1;
  return days_from_civil(c * 100 + yy, month, day) * 86400 + hh * 3600 + mm * 60 + ss;
}

/* An RFC 3339 date-time ("2026-12-01T21:30:00Z", "...:00.25+01:00", 't',
 * 'z' or a space accepted) as seconds since the epoch in *at; 0 if not one,
 * including impossible dates like 02-30. */
static int rfc3339(const char *v, size_t n, double *at) {
  static const unsigned char mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (n < 20 || v[4] != '-' || v[7] != '-' || v[13] != ':' || v[16] != ':' ||
      (v[10] != 'T' && v[10] != 't' && v[10] != ' '))
    return 0;
  int c = two(v), yy = two(v + 2), mo = two(v + 5), d = two(v + 8);
  int hh = two(v + 11), mi = two(v + 14), ss = two(v + 17);
  int year = c * 100 + yy, leap = year % 4 == 0 && (year % 100 || year % 400 == 0);
  if (c < 0 || yy < 0 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
      (mo == 2 && d == 29 && !leap) || hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 60)
    return 0;
  const char *p = v + 19, *end = v + n;
  double frac = 0, off = 0;
  if (*p == '.' && (frac = decimal(&p, end)) < 0) return 0; /* "." needs digits */
  /* the zone is required: without it the time is no instant at all */
  if (end - p == 1 && (*p == 'Z' || *p == 'z')) {
    /* UTC */
  } else if (end - p == 6 && (*p == '+' || *p == '-') && p[3] == ':') {
    int oh = two(p + 1), om = two(p + 4);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return 0;
    off = (*p == '-' ? -60.0 : 60.0) * (oh * 60 + om);
  } else {
    return 0;
  }
  *at = days_from_civil(year, mo, d) * 86400 + hh * 3600 + mi * 60 + ss + frac - off;
  return 1;
}

sy_ms sy_retry_after_ms(const char *headers, size_t len, sy_ms now) {
  size_t n;
  const char *v = sy_header_find(headers, len, "retry-after-ms", &n);
  if (v) {
    double d = number(v, n);
    if (d >= 0) return d;
  }
  v = sy_header_find(headers, len, "retry-after", &n);
  if (!v) return -1;
  double secs = number(v, n);
  if (secs >= 0) return secs * 1000;
  double at = http_date(v, n);
  return at < 0 ? -1 : until(at, now);
}

/* A rate-limit reset in ms from |now|: a duration, else an RFC 3339 time. */
static sy_ms reset_ms(const char *v, size_t n, sy_ms now) {
  double d = duration_ms(v, n), at;
  if (d >= 0) return d;
  return rfc3339(v, n, &at) ? until(at, now) : -1;
}

/* Each rate-limit header: the budget it describes and which of its three
 * fields it fills. A table, so that a provider's new budget is one line. */
enum { RL_LIMIT, RL_REMAINING, RL_RESET };
enum { B_OA_REQ, B_OA_TOK, B_AN_REQ, B_AN_TOK, B_AN_IN, B_AN_OUT, B_COUNT };
#define RL(name, budget, field)                                                                    \
  { name, sizeof name - 1, budget, field }
static const struct {
  const char *name;
  size_t len;
  unsigned char budget, field;
} rl_headers[] = {
    RL("x-ratelimit-limit-requests", B_OA_REQ, RL_LIMIT),
    RL("x-ratelimit-remaining-requests", B_OA_REQ, RL_REMAINING),
    RL("x-ratelimit-reset-requests", B_OA_REQ, RL_RESET),
    RL("x-ratelimit-limit-tokens", B_OA_TOK, RL_LIMIT),
    RL("x-ratelimit-remaining-tokens", B_OA_TOK, RL_REMAINING),
    RL("x-ratelimit-reset-tokens", B_OA_TOK, RL_RESET),
    RL("anthropic-ratelimit-requests-limit", B_AN_REQ, RL_LIMIT),
    RL("anthropic-ratelimit-requests-remaining", B_AN_REQ, RL_REMAINING),
    RL("anthropic-ratelimit-requests-reset", B_AN_REQ, RL_RESET),
    RL("anthropic-ratelimit-tokens-limit", B_AN_TOK, RL_LIMIT),
    RL("anthropic-ratelimit-tokens-remaining", B_AN_TOK, RL_REMAINING),
    RL("anthropic-ratelimit-tokens-reset", B_AN_TOK, RL_RESET),
    RL("anthropic-ratelimit-input-tokens-limit", B_AN_IN, RL_LIMIT),
    RL("anthropic-ratelimit-input-tokens-remaining", B_AN_IN, RL_REMAINING),
    RL("anthropic-ratelimit-input-tokens-reset", B_AN_IN, RL_RESET),
    RL("anthropic-ratelimit-output-tokens-limit", B_AN_OUT, RL_LIMIT),
    RL("anthropic-ratelimit-output-tokens-remaining", B_AN_OUT, RL_REMAINING),
    RL("anthropic-ratelimit-output-tokens-reset", B_AN_OUT, RL_RESET),
};
#undef RL

/* The most constraining of the budgets |ids| that said anything: a known
 * remaining beats an unknown one, then the lowest remaining, then the later
 * reset. NULL when none said anything. */
static const double *tightest(const double (*b)[3], const unsigned char *ids, size_t n) {
  const double *best = NULL;
  for (size_t i = 0; i < n; i++) {
    const double *c = b[ids[i]];
    if (c[RL_LIMIT] < 0 && c[RL_REMAINING] < 0 && c[RL_RESET] < 0) continue;
    if (!best) {
      best = c;
    } else if ((c[RL_REMAINING] >= 0) != (best[RL_REMAINING] >= 0)) {
      if (c[RL_REMAINING] >= 0) best = c;
    } else if (c[RL_REMAINING] != best[RL_REMAINING]) {
      if (c[RL_REMAINING] < best[RL_REMAINING]) best = c;
    } else if (c[RL_RESET] > best[RL_RESET]) {
      best = c;
    }
  }
  return best;
}

void sy_provider_ratelimit(const char *headers, size_t len, sy_ms now, sy_ratelimit *out) {
  static const unsigned char requests[] = {B_OA_REQ, B_AN_REQ};
  static const unsigned char tokens[] = {B_OA_TOK, B_AN_TOK, B_AN_IN, B_AN_OUT};
  static const double none[3] = {-1, -1, -1};
  double b[B_COUNT][3];
  for (size_t i = 0; i < B_COUNT; i++)
    b[i][0] = b[i][1] = b[i][2] = -1;
  /* One pass over the block; each line costs a length compare per table
   * entry, and a memcmp only where the lengths agree. */
  uint32_t seen = 0; /* first occurrence wins, as with sy_header_find */
  const char *p = headers, *end = headers ? headers + len : NULL, *name, *v;
  size_t nlen, vlen;
  while (next_header(&p, end, &name, &nlen, &v, &vlen)) {
    for (size_t i = 0; name && i < sizeof rl_headers / sizeof *rl_headers; i++) {
      if (nlen != rl_headers[i].len || memcmp(name, rl_headers[i].name, nlen)) continue;
      if (!(seen & (uint32_t)1 << i)) {
        int f = rl_headers[i].field;
        b[rl_headers[i].budget][f] = f == RL_RESET ? reset_ms(v, vlen, now) : number(v, vlen);
        seen |= (uint32_t)1 << i;
      }
      break;
    }
  }
  const double *r = tightest((const double(*)[3])b, requests, 2);
  const double *t = tightest((const double(*)[3])b, tokens, 4);
  if (!r) r = none;
  if (!t) t = none;
  out->limit_requests = r[RL_LIMIT];
  out->remaining_requests = r[RL_REMAINING];
  out->reset_requests_ms = r[RL_RESET];
  out->limit_tokens = t[RL_LIMIT];
  out->remaining_tokens = t[RL_REMAINING];
  out->reset_tokens_ms = t[RL_RESET];
}

/* ---------- answers ---------- */

static int icontains(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  for (; *hay; hay++) {
    size_t i = 0;
    while (i < n && hay[i] && tolower((unsigned char)hay[i]) == needle[i])
      i++;
    if (i == n) return 1;
  }
  return 0;
}

static const char *str_at(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : "";
}

/* Classifies a failed answer from its status and parsed error body. */
static sy_class classify(int status, const cJSON *err, const char *msg) {
  const char *code = str_at(err, "code"), *type = str_at(err, "type");
  const cJSON *inner = cJSON_GetObjectItemCaseSensitive(err, "innererror");
  const char *inner_code = str_at(inner, "code");
  if (!strcmp(type, "overloaded_error") || status == 529) return SY_CLASS_OVERLOADED;
  int quota = !strcmp(code, "insufficient_quota") || !strcmp(type, "insufficient_quota") ||
              icontains(msg, "exceeded your current quota") ||
              icontains(msg, "credit balance is too low") || icontains(msg, "billing");
  if (status == 429) return quota ? SY_CLASS_QUOTA : SY_CLASS_RATE_LIMIT;
  if (status == 400) {
    if (!strcmp(code, "context_length_exceeded") || icontains(msg, "maximum context length") ||
        icontains(msg, "context length") || icontains(msg, "prompt is too long") ||
        icontains(msg, "too many tokens") || icontains(msg, "input is too long") ||
        icontains(msg, "context_window"))
      return SY_CLASS_CONTEXT_WINDOW;
    if (!strcmp(code, "content_policy_violation") || !strcmp(code, "content_filter") ||
        !strcmp(inner_code, "ResponsibleAIPolicyViolation") ||
        icontains(msg, "content management policy") || icontains(msg, "content policy") ||
        icontains(msg, "safety system"))
      return SY_CLASS_CONTENT_POLICY;
    if (quota) return SY_CLASS_QUOTA;
    return SY_CLASS_BAD_REQUEST;
  }
  if (status == 401 || status == 403) return quota ? SY_CLASS_QUOTA : SY_CLASS_AUTH;
  if (status == 404) return SY_CLASS_NOT_FOUND;
  if (status == 408) return SY_CLASS_TIMEOUT;
  if (status == 409) return SY_CLASS_CONFLICT;
  if (status >= 400 && status < 500) return SY_CLASS_BAD_REQUEST;
  if (status >= 500) return SY_CLASS_SERVER;
  return SY_CLASS_BAD_RESPONSE;
}

/* Anthropic's message as an OpenAI chat.completion. Returns 0 when |msg|
 * is not a message. Sets *refused for stop_reason "refusal". */
static int anthropic_to_openai(const cJSON *msg, sy_ms now, sy_buf *out, int *refused,
                               double *in_tok, double *out_tok) {
  const cJSON *content = cJSON_GetObjectItemCaseSensitive(msg, "content");
  if (!cJSON_IsArray(content) || strcmp(str_at(msg, "type"), "message") != 0) return 0;
  const char *stop = str_at(msg, "stop_reason");
  const char *finish = !strcmp(stop, "max_tokens") ? "length"
                       : !strcmp(stop, "tool_use") ? "tool_calls"
                       : !strcmp(stop, "refusal")  ? "content_filter"
                                                   : "stop";
  *refused = !strcmp(stop, "refusal");
  sy_buf text, calls;
  sy_buf_init(&text);
  sy_buf_init(&calls);
  const cJSON *block;
  cJSON_ArrayForEach(block, content) {
    const char *type = str_at(block, "type");
    if (!strcmp(type, "text")) {
      sy_buf_puts(&text, str_at(block, "text"));
    } else if (!strcmp(type, "tool_use")) {
      char *args = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(block, "input"));
      const char *id = str_at(block, "id"), *name = str_at(block, "name");
      sy_buf_puts(&calls, calls.len ? ",{\"id\":" : "{\"id\":");
      sy_buf_json_str(&calls, id, strlen(id));
      sy_buf_puts(&calls, ",\"type\":\"function\",\"function\":{\"name\":");
      sy_buf_json_str(&calls, name, strlen(name));
      sy_buf_puts(&calls, ",\"arguments\":");
      sy_buf_json_str(&calls, args ? args : "{}", args ? strlen(args) : 2);
      sy_buf_puts(&calls, "}}");
      cJSON_free(args);
    }
  }
  const cJSON *usage = cJSON_GetObjectItemCaseSensitive(msg, "usage");
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(usage, "input_tokens");
  const cJSON *ot = cJSON_GetObjectItemCaseSensitive(usage, "output_tokens");
  *in_tok = cJSON_IsNumber(it) ? it->valuedouble : 0;
  *out_tok = cJSON_IsNumber(ot) ? ot->valuedouble : 0;
  const char *id = str_at(msg, "id"), *model = str_at(msg, "model");
  sy_buf_puts(out, "{\"id\":");
  sy_buf_json_str(out, id, strlen(id));
  sy_buf_puts(out, ",\"object\":\"chat.completion\",\"created\":");
  sy_buf_json_num(out, (double)(long long)(now / 1000));
  sy_buf_puts(out, ",\"model\":");
  sy_buf_json_str(out, model, strlen(model));
  sy_buf_puts(out, ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
  sy_buf_json_str(out, text.data ? text.data : "", text.len);
  if (calls.len) {
    sy_buf_puts(out, ",\"tool_calls\":[");
    sy_buf_append(out, calls.data, calls.len);
    sy_buf_putc(out, ']');
  }
  sy_buf_puts(out, "},\"finish_reason\":\"");
  sy_buf_puts(out, finish);
  sy_buf_puts(out, "\"}],\"usage\":{\"prompt_tokens\":");
  sy_buf_json_num(out, *in_tok);
  sy_buf_puts(out, ",\"completion_tokens\":");
  sy_buf_json_num(out, *out_tok);
  sy_buf_puts(out, ",\"total_tokens\":");
  sy_buf_json_num(out, *in_tok + *out_tok);
  sy_buf_puts(out, "}}");
  int oom = text.oom || calls.oom;
  sy_buf_free(&text);
  sy_buf_free(&calls);
  return oom ? -1 : 1;
}

static void set_message(sy_outcome *o, const char *msg) {
  size_t n = strlen(msg);
  sy_buf_reset(&o->message);
  sy_buf_append(&o->message, msg, n > MAX_MESSAGE ? MAX_MESSAGE : n);
}

/* Whether |n| bytes at |p| hold |lit|. */
static int span_has(const char *p, size_t n, const char *lit) {
  size_t k = strlen(lit);
  for (const char *e = p + n; (size_t)(e - p) >= k; p++) {
    p = memchr(p, lit[0], (size_t)(e - p) - k + 1);
    if (!p) return 0;
    if (!memcmp(p, lit, k)) return 1;
  }
  return 0;
}

/* out[i]: the number member |keys[i]| (i < |n| <= 2) of object |o| (a span
 * sy_json_scan validated), 0 when absent or not a number. strtod stops at
 * the delimiter after it, which the object's closing brace guarantees is
 * inside the text. */
static void numbers_of(const sy_json_span *o, const char *const *keys, size_t n, double *out) {
  sy_json_span v[2];
  if (o->type != SY_JSON_OBJECT || !sy_json_scan(o->at, o->len, keys, n, v)) n = 0;
  for (size_t i = 0; i < 2; i++)
    out[i] = i < n && v[i].type == SY_JSON_NUMBER ? strtod(v[i].at, NULL) : 0;
}

/* Whether a choice of |choices| (a validated array) ended on the content
 * filter. The text is searched first: without the word (or any \u escape,
 * which might spell it) no choice can have it, and the array, most of an
 * answer, is not parsed into a tree at all. */
static int content_filtered(const sy_json_span *choices) {
  if (!span_has(choices->at, choices->len, "content_filter") &&
      !span_has(choices->at, choices->len, "\\u"))
    return 0;
  cJSON *doc = cJSON_ParseWithLength(choices->at, choices->len);
  const cJSON *c;
  int filtered = 0;
  cJSON_ArrayForEach(c, doc) filtered |= !strcmp(str_at(c, "finish_reason"), "content_filter");
  cJSON_Delete(doc);
  return filtered;
}

/* An OpenAI-shaped success, a chat.completion (|chat|) or an embeddings
 * list: checked by a strict scan, since the body goes to the
 * host as it came and must parse there (sy_json_scan says why not cJSON),
 * and read for its usage without building a tree of it: a tree and its
 * deletion were half the instructions of a request's end (bench/). */
static int parse_success(const char *body, size_t body_len, int chat, sy_outcome *out) {
  const char *const keys[] = {chat ? "choices" : "data", "usage"};
  static const char *const usage_keys[] = {"prompt_tokens", "completion_tokens"};
  sy_json_span top[2];
  if (!body || !sy_json_scan(body, body_len, keys, 2, top) || top[0].type != SY_JSON_ARRAY) {
    out->cls = SY_CLASS_BAD_RESPONSE;
    set_message(out, chat ? "upstream answer is not a valid chat completion"
                          : "upstream answer is not a valid embeddings list");
    return out->message.oom ? SY_ERR_NOMEM : SY_OK;
  }
  double tokens[2];
  numbers_of(&top[1], usage_keys, 2, tokens);
  out->prompt_tokens = tokens[0];
  out->completion_tokens = chat ? tokens[1] : 0;
  if (chat && content_filtered(&top[0])) {
    out->cls = SY_CLASS_CONTENT_POLICY;
    set_message(out, "the provider's content filter stopped the answer");
    return out->message.oom ? SY_ERR_NOMEM : SY_OK;
  }
  out->cls = SY_CLASS_OK;
  sy_buf_append(&out->response, body, body_len);
  return out->response.oom ? SY_ERR_NOMEM : SY_OK;
}

int sy_provider_parse_response(sy_provider_kind kind, int status, const char *headers,
                               size_t headers_len, const char *body, size_t body_len, sy_ms now,
                               sy_outcome *out) {
  out->status = status;
  out->retry_after_ms = sy_retry_after_ms(headers, headers_len, now);
  int success = status >= 200 && status < 300;
  if (success && kind != SY_PROVIDER_ANTHROPIC) return parse_success(body, body_len, 1, out);
  cJSON *doc = body && body_len ? cJSON_ParseWithLength(body, body_len) : NULL;
  if (success) {
    int refused = 0;
    int rc = doc ? anthropic_to_openai(doc, now, &out->response, &refused, &out->prompt_tokens,
                                       &out->completion_tokens)
                 : 0;
    cJSON_Delete(doc);
    if (rc < 0) return SY_ERR_NOMEM;
    out->cls = rc == 0 ? SY_CLASS_BAD_RESPONSE : refused ? SY_CLASS_CONTENT_POLICY : SY_CLASS_OK;
    if (out->cls == SY_CLASS_BAD_RESPONSE)
      set_message(out, "upstream answer is not a valid chat completion");
    else if (out->cls == SY_CLASS_CONTENT_POLICY)
      set_message(out, "the provider's content filter stopped the answer");
    return out->response.oom || out->message.oom ? SY_ERR_NOMEM : SY_OK;
  }
  const cJSON *err = cJSON_GetObjectItemCaseSensitive(doc, "error");
  if (!cJSON_IsObject(err)) err = NULL;
  const char *msg = str_at(err, "message");
  out->cls = classify(status, err, msg);
  if (*msg) {
    set_message(out, msg);
  } else {
    char generic[48];
    snprintf(generic, sizeof generic, "upstream returned %d", status);
    set_message(out, generic);
  }
  cJSON_Delete(doc);
  return out->message.oom ? SY_ERR_NOMEM : SY_OK;
}

int sy_provider_parse_embeddings(sy_provider_kind kind, int status, const char *headers,
                                 size_t headers_len, const char *body, size_t body_len, sy_ms now,
                                 sy_outcome *out) {
  if (status < 200 || status >= 300)
    return sy_provider_parse_response(kind, status, headers, headers_len, body, body_len, now, out);
  out->status = status;
  out->retry_after_ms = sy_retry_after_ms(headers, headers_len, now);
  return parse_success(body, body_len, 0, out);
}

/* ---------- streams ---------- */

/* Lines longer than this are not buffered: the stream fails as
 * bad_response rather than growing memory without bound. */
#define MAX_SSE_EVENT (1u << 20)

struct sy_stream {
  sy_provider_kind kind;
  sy_ms now;
  sy_buf pending; /* bytes of the event not yet complete */
  int content, done;
  sy_class failed;
  sy_buf message;
  char *id, *model; /* Anthropic's, from message_start */
};

sy_stream *sy_stream_new(sy_provider_kind kind, sy_ms now) {
  sy_stream *s = sy_calloc(1, sizeof *s);
  if (!s) return NULL;
  s->kind = kind;
  s->now = now;
  sy_buf_init(&s->pending);
  sy_buf_init(&s->message);
  return s;
}

void sy_stream_free(sy_stream *s) {
  if (!s) return;
  sy_buf_free(&s->pending);
  sy_buf_free(&s->message);
  sy_free(s->id);
  sy_free(s->model);
  sy_free(s);
}

int sy_stream_has_content(const sy_stream *s) { return s->content; }
int sy_stream_done(const sy_stream *s) { return s->done; }

sy_class sy_stream_failure(const sy_stream *s, const char **msg) {
  if (msg) *msg = sy_buf_cstr((sy_buf *)&s->message);
  return s->failed;
}

static void stream_fail(sy_stream *s, sy_class c, const char *msg) {
  if (s->failed || s->done) return;
  s->failed = c;
  sy_buf_reset(&s->message);
  size_t n = strlen(msg);
  sy_buf_append(&s->message, msg, n > MAX_MESSAGE ? MAX_MESSAGE : n);
}

/* One OpenAI chunk frame for Anthropic's stream: |delta| is the JSON of the
 * delta object, |finish| the finish_reason or NULL. */
static void anthropic_chunk(sy_stream *s, sy_buf *out, const char *delta, const char *finish) {
  const char *id = s->id ? s->id : "", *model = s->model ? s->model : "";
  sy_buf_puts(out, "data: {\"id\":");
  sy_buf_json_str(out, id, strlen(id));
  sy_buf_puts(out, ",\"object\":\"chat.completion.chunk\",\"created\":");
  sy_buf_json_num(out, (double)(long long)(s->now / 1000));
  sy_buf_puts(out, ",\"model\":");
  sy_buf_json_str(out, model, strlen(model));
  sy_buf_puts(out, ",\"choices\":[{\"index\":0,\"delta\":");
  sy_buf_puts(out, delta);
  sy_buf_puts(out, ",\"finish_reason\":");
  if (finish) {
    sy_buf_putc(out, '"');
    sy_buf_puts(out, finish);
    sy_buf_putc(out, '"');
  } else
    sy_buf_puts(out, "null");
  sy_buf_puts(out, "}]}\n\n");
}

static sy_class error_class(const cJSON *err) {
  const char *type = str_at(err, "type"), *code = str_at(err, "code");
  if (!strcmp(type, "overloaded_error")) return SY_CLASS_OVERLOADED;
  if (!strcmp(type, "rate_limit_error") || !strcmp(code, "rate_limit_exceeded"))
    return SY_CLASS_RATE_LIMIT;
  return SY_CLASS_SERVER;
}

/* |data| as exactly one JSON value: trailing bytes make it malformed, so
 * nothing the client receives was silently dropped. */
static cJSON *parse_event(const char *data) { return cJSON_ParseWithOpts(data, NULL, 1); }

/* One complete event: |event| name (may be empty) and its |data|. */
static void stream_event(sy_stream *s, const char *event, const char *data, sy_buf *out) {
  if (s->kind != SY_PROVIDER_ANTHROPIC) {
    if (!strcmp(data, "[DONE]")) {
      s->done = 1;
      return;
    }
    /* Forwarded as it came (below), so it must parse in the client, which
     * cJSON's own acceptance does not make sure of (sy_json_scan). */
    cJSON *doc = sy_json_scan(data, strlen(data), NULL, 0, NULL) ? parse_event(data) : NULL;
    if (!cJSON_IsObject(doc)) {
      cJSON_Delete(doc);
      stream_fail(s, SY_CLASS_BAD_RESPONSE, "upstream stream sent an event that is not JSON");
      return;
    }
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(doc, "error");
    if (err) {
      const char *m = str_at(err, "message");
      stream_fail(s, error_class(err), *m ? m : "upstream stream reported an error");
      cJSON_Delete(doc);
      return;
    }
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "choices")) {
      const cJSON *delta = cJSON_GetObjectItemCaseSensitive(c, "delta");
      const cJSON *content = cJSON_GetObjectItemCaseSensitive(delta, "content");
      if ((cJSON_IsString(content) && content->valuestring[0]) ||
          cJSON_GetObjectItemCaseSensitive(delta, "tool_calls"))
        s->content = 1;
      if (!strcmp(str_at(c, "finish_reason"), "content_filter"))
        stream_fail(s, SY_CLASS_CONTENT_POLICY, "the provider's content filter stopped the answer");
    }
    if (s->failed) {
      cJSON_Delete(doc);
      return;
    }
    sy_buf_puts(out, "data: ");
    if (strpbrk(data, "\r\n")) {
      /* A multi-line data field: one line for the client's SSE parser. */
      char *flat = cJSON_PrintUnformatted(doc);
      if (flat)
        sy_buf_puts(out, flat);
      else
        out->oom = 1;
      cJSON_free(flat);
    } else {
      sy_buf_puts(out, data); /* the usual case: forwarded as it came */
    }
    sy_buf_puts(out, "\n\n");
    cJSON_Delete(doc);
    return;
  }
  if (!strcmp(event, "ping")) return;
  cJSON *doc = parse_event(data);
  if (!cJSON_IsObject(doc)) {
    cJSON_Delete(doc);
    stream_fail(s, SY_CLASS_BAD_RESPONSE, "upstream stream sent an event that is not JSON");
    return;
  }
  const char *type = str_at(doc, "type");
  if (!strcmp(type, "error")) {
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(doc, "error");
    const char *m = str_at(err, "message");
    stream_fail(s, error_class(err), *m ? m : "upstream stream reported an error");
  } else if (!strcmp(type, "message_start")) {
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(doc, "message");
    sy_free(s->id);
    sy_free(s->model);
    s->id = sy_strdup(str_at(msg, "id"));
    s->model = sy_strdup(str_at(msg, "model"));
    anthropic_chunk(s, out, "{\"role\":\"assistant\",\"content\":\"\"}", NULL);
  } else if (!strcmp(type, "content_block_delta")) {
    const cJSON *delta = cJSON_GetObjectItemCaseSensitive(doc, "delta");
    if (!strcmp(str_at(delta, "type"), "text_delta")) {
      const char *text = str_at(delta, "text");
      sy_buf d;
      sy_buf_init(&d);
      sy_buf_puts(&d, "{\"content\":");
      sy_buf_json_str(&d, text, strlen(text));
      sy_buf_putc(&d, '}');
      if (*text) s->content = 1;
      anthropic_chunk(s, out, sy_buf_cstr(&d), NULL);
      if (d.oom) out->oom = 1;
      sy_buf_free(&d);
    }
  } else if (!strcmp(type, "message_delta")) {
    const char *stop = str_at(cJSON_GetObjectItemCaseSensitive(doc, "delta"), "stop_reason");
    if (!strcmp(stop, "refusal")) {
      stream_fail(s, SY_CLASS_CONTENT_POLICY, "the provider refused to answer");
    } else {
      const char *finish = !strcmp(stop, "max_tokens") ? "length"
                           : !strcmp(stop, "tool_use") ? "tool_calls"
                                                       : "stop";
      anthropic_chunk(s, out, "{}", finish);
    }
  } else if (!strcmp(type, "message_stop")) {
    s->done = 1;
  }
  cJSON_Delete(doc);
}

int sy_stream_feed(sy_stream *s, const char *bytes, size_t n, sy_buf *out) {
  if (s->failed || s->done) return SY_OK;
  sy_buf_append(&s->pending, bytes, n);
  if (s->pending.oom) return SY_ERR_NOMEM;
  /* Events end at a blank line; "\r\n" line ends are accepted too. */
  for (;;) {
    char *p = s->pending.data, *end = NULL;
    size_t skip = 0;
    for (size_t i = 0; i + 1 < s->pending.len; i++) {
      if (p[i] == '\n' && p[i + 1] == '\n') {
        end = p + i, skip = 2;
        break;
      }
      if (i + 3 < s->pending.len && !memcmp(p + i, "\r\n\r\n", 4)) {
        end = p + i, skip = 4;
        break;
      }
    }
    if (!end) break;
    sy_buf event, data;
    sy_buf_init(&event);
    sy_buf_init(&data);
    for (char *line = p; line < end;) {
      char *eol = memchr(line, '\n', (size_t)(end - line));
      if (!eol) eol = end;
      size_t len = (size_t)(eol - line);
      if (len && line[len - 1] == '\r') len--;
      if (len >= 5 && !memcmp(line, "data:", 5)) {
        const char *v = line + 5 + (len > 5 && line[5] == ' ');
        if (data.len) sy_buf_putc(&data, '\n');
        sy_buf_append(&data, v, len - (size_t)(v - line));
      } else if (len >= 6 && !memcmp(line, "event:", 6)) {
        const char *v = line + 6 + (len > 6 && line[6] == ' ');
        sy_buf_reset(&event);
        sy_buf_append(&event, v, len - (size_t)(v - line));
      }
      line = eol + 1;
    }
    int oom = event.oom || data.oom;
    if (!oom && data.len && memchr(data.data, '\0', data.len))
      stream_fail(s, SY_CLASS_BAD_RESPONSE, "upstream stream event holds a NUL byte");
    else if (!oom && data.len)
      stream_event(s, sy_buf_cstr(&event), sy_buf_cstr(&data), out);
    sy_buf_free(&event);
    sy_buf_free(&data);
    size_t used = (size_t)(end - p) + skip;
    memmove(p, p + used, s->pending.len - used);
    s->pending.len -= used;
    if (oom || out->oom) return SY_ERR_NOMEM;
    if (s->failed || s->done) return SY_OK;
  }
  if (s->pending.len > MAX_SSE_EVENT)
    stream_fail(s, SY_CLASS_BAD_RESPONSE, "upstream stream event over 1 MiB");
  return SY_OK;
}

int sy_stream_finish(sy_stream *s, sy_buf *out) {
  if (!s->done) stream_fail(s, SY_CLASS_NETWORK, "the upstream stream was cut before it finished");
  if (s->done) sy_buf_puts(out, "data: [DONE]\n\n");
  return out->oom ? SY_ERR_NOMEM : SY_OK;
}
