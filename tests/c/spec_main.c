/* spec_main.c: runs one spec case on the native build. The case arrives on
 * stdin as JSON, already parsed out of the Markdown in tests/spec/ by the JS harness
 * (tests/js/spec.test.js), which runs the same case on both wasm builds
 * and compares the logs:
 *   {"config":{...},"seed":N,"start":ms,"limit":ms,
 *    "upstreams":{"<name>":{"answers":[ANSWER...],"default":ANSWER}},
 *    "steps":[{"at":ms,"request":{...}} | {"at":ms,"cancel":N}]}
 *   ANSWER = {"status":N,"latency":ms,"headers":"...","body":"..."}
 * Output: each event as one JSON line, then one summary line:
 *   {"summary":{"deliveries":{"<id>":count,...},"statuses":{"<id>":N},
 *    "inflight":N,"heap":bytes}}
 * Exit status 2 on unusable input, 0 otherwise: judging is the harness's. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"
#include "host_sim.h"

static char *read_all(FILE *f) {
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  size_t n;
  while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
    len += n;
    if (len + 1 == cap) buf = realloc(buf, cap *= 2);
  }
  buf[len] = '\0';
  return buf;
}

static double num(const cJSON *o, const char *k, double dflt) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static sim_answer answer_of(const cJSON *o) {
  sim_answer a;
  a.status = (int)num(o, "status", 200);
  a.latency = num(o, "latency", 0);
  const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "headers");
  const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "body");
  a.headers = cJSON_IsString(h) ? h->valuestring : NULL;
  a.body = cJSON_IsString(b) ? b->valuestring : NULL;
  return a;
}

int main(void) {
  /* One allocator for every cJSON object, the harness's included, so that
   * no block is freed by an allocator that did not make it. */
  cJSON_Hooks hooks = {sy_malloc, sy_free};
  cJSON_InitHooks(&hooks);
  char *input = read_all(stdin);
  cJSON *spec = cJSON_Parse(input);
  free(input);
  if (!spec) {
    fprintf(stderr, "spec: input is not JSON\n");
    return 2;
  }
  sim s;
  sim_init(&s, num(spec, "start", 0));
  const cJSON *ups = cJSON_GetObjectItemCaseSensitive(spec, "upstreams"), *u;
  cJSON_ArrayForEach(u, ups) {
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(u, "answers"), *it;
    size_t n = (size_t)cJSON_GetArraySize(list), i = 0;
    sim_answer *answers = calloc(n ? n : 1, sizeof *answers);
    cJSON_ArrayForEach(it, list) answers[i++] = answer_of(it);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(u, "default");
    sim_answer dflt = answer_of(d);
    sim_upstream_add(&s, u->string, answers, n, d ? &dflt : NULL);
    free(answers);
  }
  char *cfg = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(spec, "config"));
  if (!cfg) {
    fprintf(stderr, "spec: no config\n");
    return 2;
  }
  sy_buf err;
  sy_buf_init(&err);
  int rc = sim_router(&s, cfg, (uint64_t)num(spec, "seed", 1), &err);
  sy_free(cfg);
  if (rc < 0) {
    printf("{\"config_error\":");
    sy_buf out;
    sy_buf_init(&out);
    sy_buf_json_str(&out, sy_buf_cstr(&err), err.len);
    printf("%s}\n", sy_buf_cstr(&out));
    sy_buf_free(&out);
    sy_buf_free(&err);
    sim_free(&s);
    cJSON_Delete(spec);
    return 0;
  }
  sy_buf_free(&err);
  size_t heap_ready = sy_heap_bytes();
  const cJSON *steps = cJSON_GetObjectItemCaseSensitive(spec, "steps"), *st;
  cJSON_ArrayForEach(st, steps) {
    sy_ms at = num(st, "at", s.now);
    if (at > s.now) sim_advance(&s, at - s.now);
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(st, "request");
    if (req) {
      char *body = cJSON_IsString(req) ? NULL : cJSON_PrintUnformatted(req);
      sim_begin(&s, body ? body : req->valuestring);
      sy_free(body);
    }
    const cJSON *cancel = cJSON_GetObjectItemCaseSensitive(st, "cancel");
    if (cJSON_IsNumber(cancel)) sy_router_cancel(s.router, cancel->valueint, s.now);
  }
  sim_run(&s, num(spec, "limit", 3600000));
  fputs(s.events.data ? s.events.data : "", stdout);
  printf("{\"summary\":{\"deliveries\":{");
  for (size_t i = 0; i < s.ndeliveries; i++) {
    int count;
    sim_delivery_of(&s, s.deliveries[i].request, &count);
    printf("%s\"%d\":%d", i ? "," : "", s.deliveries[i].request, count);
  }
  printf("},\"statuses\":{");
  for (size_t i = 0; i < s.ndeliveries; i++) {
    cJSON *d = cJSON_Parse(s.deliveries[i].json);
    printf("%s\"%d\":%d", i ? "," : "", s.deliveries[i].request, (int)num(d, "status", -1));
    cJSON_Delete(d);
  }
  printf("},\"inflight\":%zu,\"heap\":%zu}}\n", sy_router_inflight(s.router),
         sy_heap_bytes() - heap_ready);
  sim_free(&s);
  cJSON_Delete(spec);
  return 0;
}
