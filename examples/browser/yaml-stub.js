// The page has no bundler, and the package's config module imports the
// `yaml` package by its bare name; the import map in index.html points that
// name here. The demo passes its config as an object, so YAML is never
// parsed. (A page built with a bundler gets the real `yaml` package.)
export function parse() {
  throw new Error('switchyard demo: no YAML parser in this page; pass the config as an object');
}
