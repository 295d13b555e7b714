// The front end, as `make assets` builds it into booking/static/ (all of it gitignored):
//
// - app.css: GOV.UK Frontend's Sass (the parts app.scss names) and the service's own;
// - js/govuk.js, js/timeout.js, js/print.js, js/scroll-hint.js: assets/js/*.mjs, each bundled
//   with what it imports from GOV.UK Frontend (esbuild keeps only what is used) and minified;
// - a copy of each of those, and of favicon.svg, under a fingerprinted name
//   (app.<first 10 hex digits of its SHA-256>.css), which the app serves with a year's cache;
// - asset-manifest.json: each plain name to its fingerprinted one, read by booking/assets.py.
//
// Fingerprinted files of earlier builds are removed. Run from the repository root:
// `node assets/build.mjs` (or `npm run build`).

import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { basename, dirname, extname, join } from 'node:path'

import * as esbuild from 'esbuild'
import * as sass from 'sass'

const STATIC = 'booking/static'
const MANIFEST = join(STATIC, 'asset-manifest.json')
const SCRIPTS = ['govuk', 'timeout', 'print', 'scroll-hint']
// Files committed under booking/static/ that are fingerprinted as they are.
const COPIED = ['favicon.svg']
const DIGITS = 10

function fingerprinted (name, content) {
  const digest = createHash('sha256').update(content).digest('hex').slice(0, DIGITS)
  const extension = extname(name)
  return join(dirname(name), `${basename(name, extension)}.${digest}${extension}`)
}

// Any earlier build's copy of `name` (same stem and extension, another fingerprint).
function removeEarlier (name, keep) {
  const folder = join(STATIC, dirname(name))
  const extension = extname(name)
  const earlier = new RegExp(
    `^${basename(name, extension).replace(/[.-]/g, '\\$&')}\\.[0-9a-f]{${DIGITS}}\\${extension}$`
  )
  for (const file of readdirSync(folder)) {
    if (earlier.test(file) && file !== basename(keep)) rmSync(join(folder, file))
  }
}

const built = new Map()

const css = sass.compile('assets/app.scss', {
  loadPaths: ['node_modules'],
  style: 'compressed',
  sourceMap: false
})
built.set('app.css', Buffer.from(css.css))

const scripts = await esbuild.build({
  entryPoints: Object.fromEntries(SCRIPTS.map((name) => [name, `assets/js/${name}.mjs`])),
  bundle: true,
  minify: true,
  format: 'esm',
  // As GOV.UK Frontend: browsers that run <script type="module">.
  target: 'es2017',
  outdir: join(STATIC, 'js'),
  write: false,
  logLevel: 'warning'
})
for (const file of scripts.outputFiles) built.set(`js/${basename(file.path)}`, Buffer.from(file.contents))

for (const name of COPIED) built.set(name, readFileSync(join(STATIC, name)))

const manifest = {}
for (const [name, content] of built) {
  const target = fingerprinted(name, content)
  mkdirSync(dirname(join(STATIC, name)), { recursive: true })
  if (!COPIED.includes(name)) writeFileSync(join(STATIC, name), content)
  writeFileSync(join(STATIC, target), content)
  removeEarlier(name, target)
  manifest[name] = target
}
writeFileSync(MANIFEST, JSON.stringify(manifest, null, 2) + '\n')

for (const [name, target] of Object.entries(manifest)) {
  console.log(`${target.padEnd(32)} ${String(built.get(name).length).padStart(7)} bytes`)
}
