// ttl.mjs - preload (node --import ./ttl.mjs ...) that ends the process after
// BENCH_TTL_S seconds (default 900), so no server the bench starts can
// outlive it, even if the bench itself is killed with SIGKILL.
const ttl = Number(process.env.BENCH_TTL_S ?? 900);
if (ttl > 0) setTimeout(() => process.exit(0), ttl * 1000).unref();
