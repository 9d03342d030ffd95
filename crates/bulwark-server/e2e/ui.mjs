// Browser end-to-end test of the `bulwark serve` web UI.
//
// Drives a real Chromium (playwright-core, no browser download) through what a security engineer
// does on a fresh server: log in, upload an SBOM, triage a finding, upload the next version,
// compare the two. Every step asserts what the user sees and leaves a screenshot; any console
// error or uncaught exception on any page fails the step it happened in.
//
// Inputs (environment):
//   BULWARK_E2E_URL          base URL of a freshly started server (empty database)
//   BULWARK_E2E_KEY          an admin API key
//   BULWARK_E2E_SBOM         a CycloneDX JSON SBOM with components the server's vulnerability
//                            database knows vulnerabilities for
//   BULWARK_E2E_SBOM_NEXT    the next version of it: testdata/app-v2.cdx.json, whose changes
//                            the diff step expects (pillow, requests and jinja2 upgraded,
//                            fastapi added; the pillow and requests findings resolved)
//   BULWARK_E2E_SCREENSHOTS  directory for the PNGs (created if missing)
//   BULWARK_CHROMIUM         Chromium executable (default /usr/bin/chromium)
// Exit code 0 when every step passed, 1 otherwise; the last line is "e2e: N passed, M failed".

import { chromium } from 'playwright-core';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const TIMEOUT = 15_000;
const UPLOAD_TIMEOUT = 120_000;

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

/** A failed expectation: the message says what the user should have seen. */
class Failure extends Error {}

function expect(condition, message) {
  if (!condition) throw new Failure(message);
}

/** Waits until `probe()` returns a truthy value; fails with `message` (and the last value). */
async function eventually(probe, message, timeout = TIMEOUT) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (err) {
      last = err.message;
    }
    if (Date.now() > deadline) throw new Failure(`${message} (last seen: ${JSON.stringify(last)})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function visible(locator, message, timeout = TIMEOUT) {
  try {
    await locator.first().waitFor({ state: 'visible', timeout });
  } catch {
    throw new Failure(message);
  }
  return locator.first();
}

async function text(locator) {
  return ((await locator.first().textContent({ timeout: TIMEOUT })) ?? '')
    .replace(/\s+/g, ' ')
    .trim();
}

async function main() {
  const base = required('BULWARK_E2E_URL').replace(/\/+$/, '');
  const key = required('BULWARK_E2E_KEY');
  const sbom = path.resolve(required('BULWARK_E2E_SBOM'));
  const shots = path.resolve(required('BULWARK_E2E_SCREENSHOTS'));
  await mkdir(shots, { recursive: true });
  const sbomNext = path.resolve(required('BULWARK_E2E_SBOM_NEXT'));
  const sbomNextBytes = await readFile(sbomNext);
  // Downloads that are fed back to the app (the VEX round trip) live here, not among the PNGs.
  const scratch = await mkdtemp(path.join(tmpdir(), 'bulwark-e2e-'));

  const browser = await chromium.launch({
    executablePath: process.env.BULWARK_CHROMIUM || '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });

  let passed = 0;
  let failed = 0;
  let current = 'start';
  let allowedConsole = [];
  const consoleErrors = [];
  try {
    const context = await browser.newContext({
      viewport: { width: 1360, height: 900 },
      colorScheme: 'light',
      acceptDownloads: true,
    });
    context.setDefaultTimeout(TIMEOUT);
    const page = await context.newPage();
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const line = msg.text();
      if (allowedConsole.some((re) => re.test(line))) return;
      const where = msg.location()?.url
        ? ` at ${msg.location().url}:${msg.location().lineNumber}`
        : '';
      consoleErrors.push(`[${current}] console error: ${line}${where}`);
    });
    page.on('pageerror', (err) =>
      consoleErrors.push(`[${current}] uncaught exception: ${err.message}`),
    );

    let number = 0;
    const step = async (name, description, fn, { allow = [] } = {}) => {
      number += 1;
      const file = `${String(number).padStart(2, '0')}-${name}.png`;
      current = file;
      allowedConsole = allow;
      const started = Date.now();
      try {
        await fn();
        // Let late answers land, so an error they cause is charged to this step.
        await page.waitForLoadState('networkidle', { timeout: 5_000 }).catch(() => {});
        expect(
          consoleErrors.length === 0,
          `the page logged errors:\n  ${consoleErrors.join('\n  ')}`,
        );
        await page.screenshot({ path: path.join(shots, file), fullPage: true });
        passed += 1;
        console.log(`ok ${number} - ${description} (${Date.now() - started} ms, ${file})`);
      } catch (err) {
        failed += 1;
        const failShot = file.replace(/\.png$/, '-FAILED.png');
        await page.screenshot({ path: path.join(shots, failShot), fullPage: true }).catch(() => {});
        console.log(
          `not ok ${number} - ${description}\n  ${err.message.replace(/\n/g, '\n  ')}\n  page: ${page.url()}\n  screenshot: ${failShot}`,
        );
        throw err;
      } finally {
        allowedConsole = [];
        consoleErrors.length = 0;
      }
    };

    const h1 = () => page.locator('main h1');
    /** Waits for the page heading; a failure says which heading and which alert showed instead. */
    const heading = async (expected, message) => {
      let seen = '';
      try {
        await eventually(async () => {
          seen = await text(h1());
          return seen === expected;
        }, message);
      } catch (err) {
        if (!(err instanceof Failure)) throw err;
        const alerts = await page.locator('[role="alert"]').allTextContents();
        const said = alerts.map((a) => a.replace(/\s+/g, ' ').trim()).filter(Boolean);
        throw new Failure(
          `${message}: the heading is "${seen}"${said.length ? `, the page says "${said.join(' / ')}"` : ''}`,
        );
      }
    };
    const tile = (name) => page.locator(`[data-tile="${name}"] .tile-value`);
    const tileNumber = async (name) => {
      const value = await text(tile(name));
      const n = Number(value.replace(/[^\d]/g, ''));
      return value && Number.isFinite(n) ? n : null;
    };
    const shortcut = async (...keys) => {
      // Shortcuts are ignored while typing in a text box, as they should be.
      await page.evaluate(() => document.activeElement?.blur?.());
      for (const k of keys) await page.keyboard.press(k);
    };
    const upload = async (version, file) => {
      await shortcut('g', 'u');
      await heading('Upload an SBOM', 'g u should open the upload page');
      await page.fill('#upload-project', 'e2e-app');
      await page.fill('#upload-version', version);
      await page.setInputFiles('#upload-file', file);
      await page.click('#upload-submit');
      const done = page.locator('#upload-done');
      const error = page.locator('#upload-result .error');
      await eventually(
        async () => (await done.count()) > 0 || (await error.count()) > 0,
        `uploading ${version} should end in a result`,
        UPLOAD_TIMEOUT,
      );
      if (await error.count())
        throw new Failure(`the upload of ${version} failed: ${await text(error)}`);
      const summary = await text(page.locator('#upload-result .success'));
      expect(
        /\d+ components, \d+ findings/.test(summary),
        `the upload result should count components and findings, shows "${summary}"`,
      );
    };
    const openVersionFromResult = async (version) => {
      await page.click('#upload-version-link');
      await heading(`e2e-app ${version}`, `the version page of ${version} should open`);
    };
    const findingRows = () => page.locator('#findings-table tbody tr[data-finding-id]');

    let untriagedBefore = 0;
    let triaged = null;

    await step('login', 'the app opens on the login screen', async () => {
      await page.goto(base, { waitUntil: 'domcontentloaded' });
      await visible(
        page.locator('#login-key'),
        'the login screen with an API key field should show',
      );
      expect(
        (await text(h1())) === 'Log in to bulwark',
        `the heading should be "Log in to bulwark", is "${await text(h1())}"`,
      );
      expect(
        await page.locator('#mainnav').isHidden(),
        'the main navigation should stay hidden before login',
      );
    });

    await step(
      'login-wrong-key',
      'a wrong key is refused with a message',
      async () => {
        await page.fill('#login-key', 'not-a-valid-key-0000');
        await page.press('#login-key', 'Enter');
        const alert = await visible(
          page.locator('.login-error [role="alert"]'),
          'a login error should show for a wrong key',
        );
        const message = await text(alert);
        expect(
          /not accepted/i.test(message),
          `the login error should say the key was not accepted, says "${message}"`,
        );
        expect(
          await page.locator('#login-key').isVisible(),
          'the login form should stay after a wrong key',
        );
      },
      // The browser itself logs the refused request; that is the expected 401, not an app error.
      { allow: [/status of 401/] },
    );

    await step('dashboard-empty', 'the right key opens an empty dashboard', async () => {
      await page.fill('#login-key', key);
      await page.press('#login-key', 'Enter');
      await heading('Portfolio', 'the dashboard should open after login');
      await eventually(
        async () => (await tileNumber('projects')) === 0,
        'the projects tile should show 0',
      );
      await visible(
        page.locator('#projects-table td.empty', { hasText: 'No projects yet' }),
        'the project table should say there are no projects',
      );
      expect(
        await page.locator('#mainnav').isVisible(),
        'the main navigation should show after login',
      );
    });

    await step(
      'shortcuts-help',
      'the ? help lists the shortcuts, Escape closes it, / focuses the filter',
      async () => {
        await shortcut('?');
        const help = await visible(page.locator('dialog#help'), '? should open the keyboard help');
        const content = await text(help);
        for (const needle of ['g', 'd', 'u', '/', 'Esc']) {
          expect(content.includes(needle), `the help should mention "${needle}"`);
        }
        await page.screenshot({
          path: path.join(shots, `${String(number).padStart(2, '0')}-shortcuts-help-open.png`),
        });
        await page.keyboard.press('Escape');
        await eventually(async () => !(await help.isVisible()), 'Escape should close the help');
        await shortcut('/');
        const focused = await page.evaluate(() => document.activeElement?.id);
        expect(
          focused === 'filter-name',
          `/ should focus the project name filter, focused "${focused}"`,
        );
      },
    );

    await step('upload-form', 'g u opens the upload page; the form is filled', async () => {
      await shortcut('g', 'u');
      await heading('Upload an SBOM', 'g u should open the upload page');
      for (const id of ['upload-project', 'upload-version', 'upload-file']) {
        const label = await page.locator(`label[for="${id}"]`).count();
        expect(label === 1, `#${id} should have a label`);
      }
      await page.fill('#upload-project', 'e2e-app');
      await page.fill('#upload-version', '1.0.0');
      await page.setInputFiles('#upload-file', sbom);
    });

    await step('uploaded', 'uploading 1.0.0 reports components and findings', async () => {
      await page.click('#upload-submit');
      await eventually(
        async () => (await page.locator('#upload-done, #upload-result .error').count()) > 0,
        'the upload should end in a result',
        UPLOAD_TIMEOUT,
      );
      const error = page.locator('#upload-result .error');
      if (await error.count()) throw new Failure(`the upload failed: ${await text(error)}`);
      const summary = await text(page.locator('#upload-result .success'));
      const match = /(\d[\d,]*) findings/.exec(summary);
      expect(
        match && Number(match[1].replace(/,/g, '')) > 0,
        `the upload should report findings (> 0): "${summary}"`,
      );
    });

    await step('version-findings', 'the new version page lists findings', async () => {
      await openVersionFromResult('1.0.0');
      await eventually(
        async () => (await findingRows().count()) > 0,
        'the findings table of 1.0.0 should list findings',
      );
      const first = findingRows().first();
      expect(
        (await first.locator('.badge[data-severity]').count()) === 1,
        'each finding should show a severity badge',
      );
      expect(
        (await first.locator('.state').count()) === 1,
        'each finding should show its triage state',
      );
    });

    await step('dashboard-untriaged', 'g d shows the project and the untriaged count', async () => {
      await shortcut('g', 'd');
      await heading('Portfolio', 'g d should open the dashboard');
      untriagedBefore = await eventually(
        async () => tileNumber('untriaged'),
        'the untriaged tile should show a number above 0',
      );
      await visible(
        page.locator('#projects-table tr[data-project="e2e-app"]'),
        'the project table should list e2e-app',
      );
      expect(
        (await page.locator('svg.chart title').count()) === 1 ||
          (await page.locator('.chart-card p.muted').count()) === 1,
        'the trend chart (or its empty note) should show',
      );
    });

    await step('project', 'the project page lists version 1.0.0', async () => {
      await page.click('#projects-table tr[data-project="e2e-app"] a >> nth=0');
      await heading('e2e-app', 'the project page of e2e-app should open');
      await visible(
        page.locator('#versions-table tr[data-version="1.0.0"]'),
        'the versions table should list 1.0.0',
      );
      await visible(page.locator('#remediation-table'), 'the remediation table should show');
    });

    await step('triage-dialog', 'a finding opens in the triage dialog', async () => {
      await page.click('#versions-table tr[data-version="1.0.0"] a');
      await heading('e2e-app 1.0.0', 'the version page of 1.0.0 should open');
      // A gradio finding: gradio stays in 1.1.0 (app-v2), so the triage can carry over.
      const untriagedRow = page
        .locator(
          '#findings-table tbody tr[data-finding-id][data-component="gradio"]:has(.state[data-state="untriaged"])',
        )
        .first();
      await visible(untriagedRow, 'an untriaged gradio finding should be listed');
      triaged = {
        id: await untriagedRow.getAttribute('data-finding-id'),
        finding: await untriagedRow.getAttribute('data-finding'),
        component: await untriagedRow.getAttribute('data-component'),
      };
      await untriagedRow.locator('button.finding-open').click();
      const dialog = await visible(
        page.locator('dialog#triage-dialog[open]'),
        'the triage dialog should open',
      );
      await visible(dialog.locator('#triage-state'), 'the dialog should offer a state select');
      const dialogTitle = await text(dialog.locator('h2'));
      expect(
        dialogTitle.includes(triaged.finding),
        `the dialog should be titled with ${triaged.finding}, is "${dialogTitle}"`,
      );
      expect(
        await dialog.locator('#triage-justification').isDisabled(),
        'the justification should be disabled until the state is not affected',
      );
    });

    await step(
      'triage-saved',
      'not affected with a justification is saved and audited',
      async () => {
        const dialog = page.locator('dialog#triage-dialog');
        await dialog.locator('#triage-state').selectOption('not_affected');
        expect(
          await dialog.locator('#triage-justification').isEnabled(),
          'the justification should be enabled for not affected',
        );
        await dialog.locator('#triage-justification').selectOption('code_not_reachable');
        await dialog
          .locator('#triage-detail')
          .fill('e2e: the vulnerable function is never called by the service.');
        await dialog.locator('#triage-save').click();
        const outcome = await eventually(async () => {
          if (await dialog.locator('.error').count())
            return `error: ${await text(dialog.locator('.error'))}`;
          if (await dialog.locator('.success').count()) return 'saved';
          return null;
        }, 'saving the triage should end in a message');
        expect(outcome === 'saved', `the triage should save, the dialog shows ${outcome}`);
        const stateRow = dialog.locator('#audit-table tr[data-field="state"]');
        await visible(stateRow, 'the audit trail should show the state change');
        const change = await text(stateRow);
        expect(
          /not affected/.test(change),
          `the audit trail should record the change to not affected, shows "${change}"`,
        );
        expect(
          (await dialog.locator('#audit-table tr[data-field="justification"]').count()) > 0,
          'the audit trail should record the justification',
        );
        const now = await text(dialog.locator('#triage-current'));
        expect(/not affected/.test(now), `the dialog should show the new state, shows "${now}"`);
        await stateRow.scrollIntoViewIfNeeded();
      },
    );

    await step(
      'finding-state',
      'Escape closes the dialog; the finding shows its new state',
      async () => {
        await page.keyboard.press('Escape');
        await eventually(
          async () => (await page.locator('dialog#triage-dialog').count()) === 0,
          'Escape should close the triage dialog',
        );
        const row = page.locator(`#findings-table tbody tr[data-finding-id="${triaged.id}"]`);
        await eventually(
          async () => (await text(row.locator('.state'))) === 'not affected',
          `finding ${triaged.finding} should show "not affected" in the table`,
        );
      },
    );

    await step(
      'dashboard-after-triage',
      'the dashboard counts one untriaged finding less',
      async () => {
        await shortcut('g', 'd');
        await heading('Portfolio', 'g d should open the dashboard');
        await eventually(
          async () => (await tileNumber('untriaged')) === untriagedBefore - 1,
          `the untriaged tile should go from ${untriagedBefore} to ${untriagedBefore - 1}`,
        );
        await visible(
          page.locator('#projects-table tr[data-project="e2e-app"]'),
          'the project table should still list e2e-app',
        );
      },
    );

    await step('uploaded-again', 'uploading the next SBOM as 1.1.0 works', async () => {
      await upload('1.1.0', sbomNext);
      await openVersionFromResult('1.1.0');
      await eventually(
        async () => (await findingRows().count()) > 0,
        'the findings table of 1.1.0 should list findings',
      );
    });

    await step('triage-carried-over', 'the triage carried over to 1.1.0', async () => {
      await page.check(
        'form[aria-label="Filter findings"] input[name="state"][value="not_affected"]',
      );
      const row = page.locator(
        `#findings-table tbody tr[data-finding="${triaged.finding}"][data-component="${triaged.component}"]`,
      );
      await visible(
        row,
        `1.1.0 filtered to "not affected" should list ${triaged.finding} on ${triaged.component}: the triage did not carry over`,
      );
      const state = await text(row.locator('.state'));
      expect(
        state === 'not affected',
        `${triaged.finding} in 1.1.0 should be "not affected", is "${state}"`,
      );
    });

    await step(
      'version-tabs',
      'the components, GPU, models, SBOM and VEX tabs render; the SBOM downloads as uploaded',
      async () => {
        for (const [label, marker] of [
          ['Components', '#any-table'],
          ['GPU stack', '#gpu-table'],
          ['Models', '#model-table'],
          ['VEX', '#vex-download'],
          ['SBOM', '#sbom-download'],
        ]) {
          await page.click(`nav.tabs a:text-is("${label}")`);
          await visible(page.locator(marker), `the ${label} tab should render ${marker}`);
          const errors = page.locator('main .error');
          if (await errors.count())
            throw new Failure(`the ${label} tab shows an error: ${await text(errors)}`);
        }
        const [download] = await Promise.all([
          page.waitForEvent('download'),
          page.click('#sbom-download'),
        ]);
        const file = await download.path();
        const bytes = await readFile(file);
        expect(
          bytes.equals(sbomNextBytes),
          `the downloaded SBOM (${bytes.length} bytes) should be the uploaded document (${sbomNextBytes.length} bytes)`,
        );
      },
    );

    await step('diff', 'the project compares 1.0.0 with 1.1.0', async () => {
      await page.click('nav.breadcrumbs a:text-is("e2e-app")');
      await heading('e2e-app', 'the breadcrumb should lead to the project page');
      await page.locator('#compare-from').selectOption({
        label: await page
          .locator('#compare-from option', { hasText: '1.0.0' })
          .first()
          .textContent(),
      });
      await page.locator('#compare-to').selectOption({
        label: await page.locator('#compare-to option', { hasText: '1.1.0' }).first().textContent(),
      });
      await page.click('#compare-form button[type="submit"]');
      await heading('Compare 1.0.0 → 1.1.0', 'the diff page of 1.0.0 → 1.1.0 should open');
      expect(
        /#\/diff\?from=\d+&to=\d+/.test(page.url()),
        `the address should be #/diff?from=A&to=B, is ${page.url()}`,
      );
      for (const [id, title, count] of [
        ['diff-new', 'New findings', 0],
        ['diff-resolved', 'Resolved findings', 2],
        ['diff-added', 'Added components', 1],
        ['diff-removed', 'Removed components', 0],
        ['diff-upgraded', 'Upgraded components', 3],
        ['diff-downgraded', 'Downgraded components', 0],
      ]) {
        const shown = await text(page.locator(`#${id}`));
        expect(
          shown === `${title} (${count})`,
          `the diff heading should read "${title} (${count})", reads "${shown}"`,
        );
      }
      const section = (key) => page.locator(`section[data-diff="${key}"]`);
      const pillow = await text(section('upgraded').locator('tr:has(th:text-is("pillow"))'));
      expect(
        pillow.includes('10.0.0') && pillow.includes('10.3.0'),
        `the upgraded table should show pillow 10.0.0 → 10.3.0, shows "${pillow}"`,
      );
      const added = await text(section('added').locator('tbody'));
      expect(added.includes('fastapi'), `the added table should list fastapi, shows "${added}"`);
      const resolved = await text(section('resolved').locator('tbody'));
      expect(
        resolved.includes('PYSEC-2023-74') && resolved.includes('PYSEC-2023-175'),
        `the resolved findings should be the requests and pillow advisories, shows "${resolved}"`,
      );
    });

    await step(
      'vex',
      'the VEX export of 1.1.0 downloads and imports back, applying the triage',
      async () => {
        await page.click('a.btn:text-is("Open 1.1.0")');
        await heading('e2e-app 1.1.0', 'the diff should link to version 1.1.0');
        await page.click('nav.tabs a:text-is("VEX")');
        await page.locator('#vex-format').selectOption('cyclonedx');
        const [download] = await Promise.all([
          page.waitForEvent('download'),
          page.click('#vex-download'),
        ]);
        const file = path.join(scratch, 'e2e-app-1.1.0.vex.cdx.json');
        await download.saveAs(file);
        let vex;
        try {
          vex = JSON.parse(await readFile(file, 'utf8'));
        } catch (err) {
          throw new Failure(`the VEX download should be JSON: ${err.message}`);
        }
        expect(
          vex.bomFormat === 'CycloneDX',
          `the VEX download should be a CycloneDX document, has bomFormat ${JSON.stringify(vex.bomFormat)}`,
        );
        await page.setInputFiles('#vex-file', file);
        await page.click('#vex-import');
        await eventually(
          async () => (await page.locator('main .success[role="status"], main .error').count()) > 0,
          'importing the VEX document should end in a result',
        );
        if (await page.locator('main .error').count())
          throw new Failure(`the VEX import failed: ${await text(page.locator('main .error'))}`);
        const applied = await text(page.locator('[data-vex-result="applied"]'));
        expect(
          applied.includes(`${triaged.finding} on ${triaged.component}: not affected`),
          `the import should apply "not affected" to ${triaged.finding} on ${triaged.component}, shows "${applied}"`,
        );
      },
    );

    await step('events', 'g e lists the uploads as events, filtered by project', async () => {
      await shortcut('g', 'e');
      await heading('Events', 'g e should open the events page');
      const project = page.locator('#events-project');
      const value = await project
        .locator('option', { hasText: 'e2e-app' })
        .first()
        .getAttribute('value');
      await project.selectOption(value);
      await eventually(
        () => page.url().includes(`project=${value}`),
        'the project filter should show in the address',
      );
      const uploads = page.locator('#events-table tbody tr[data-kind="snapshot_uploaded"]');
      await eventually(
        async () => (await uploads.count()) >= 2,
        'the events of e2e-app should include its two SBOM uploads',
      );
      if (await page.locator('main .error').count())
        throw new Failure(
          `the events page shows an error: ${await text(page.locator('main .error'))}`,
        );
    });

    await step('dark', 'the dashboard in the dark colour scheme', async () => {
      await page.emulateMedia({ colorScheme: 'dark' });
      await shortcut('g', 'd');
      await heading('Portfolio', 'g d should open the dashboard');
      await eventually(
        async () => (await tileNumber('projects')) === 1,
        'the projects tile should show 1',
      );
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      expect(bg !== 'rgb(246, 247, 249)', `the dark scheme should change the background, is ${bg}`);
    });
  } catch (err) {
    if (!(err instanceof Failure)) {
      // An unexpected error (browser, network) still counts as a failed step.
      if (failed === 0) {
        failed += 1;
        console.log(`not ok - ${current}: ${err.stack ?? err.message}`);
      }
    }
  } finally {
    await browser.close().catch(() => {});
    await rm(scratch, { recursive: true, force: true });
  }
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`e2e: ${err.message}`);
    console.log('e2e: 0 passed, 1 failed');
    process.exitCode = 1;
  },
);
