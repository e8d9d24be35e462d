// A minimal W3C WebDriver client over fetch: the few commands the journey
// needs, no dependencies.

/** The W3C web element identifier, the key of an element reference. */
export const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

export class Session {
  static async create(base, capabilities) {
    const res = await fetch(`${base}/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ capabilities: { alwaysMatch: capabilities } }),
    });
    const body = await res.json();
    if (!res.ok) throw new Error(`new session: ${JSON.stringify(body)}`);
    return new Session(base, body.value.sessionId);
  }

  constructor(base, id) {
    this.url = `${base}/session/${id}`;
  }

  async #call(method, path, body) {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : undefined,
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = await res.json();
    if (!res.ok) {
      const error = new Error(`${method} ${path}: ${json.value?.error}: ${json.value?.message}`);
      error.webdriver = json.value?.error;
      throw error;
    }
    return json.value;
  }

  /** The first element matching `css`, or undefined. */
  async find(css) {
    try {
      const value = await this.#call('POST', '/element', { using: 'css selector', value: css });
      return value[ELEMENT];
    } catch (error) {
      if (error.webdriver === 'no such element') return undefined;
      throw error;
    }
  }

  async findAll(css) {
    const value = await this.#call('POST', '/elements', { using: 'css selector', value: css });
    return value.map((e) => e[ELEMENT]);
  }

  /** Waits until `css` matches; returns the element. */
  async waitFor(css, { timeout = 20_000, describe } = {}) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const element = await this.find(css);
      if (element) return element;
      if (Date.now() > deadline) {
        const alert = await this.find('[role=alert]');
        const text = alert ? await this.elementText(alert) : '';
        throw new Error(`timed out waiting for ${describe ?? css}${text ? `; the page shows: ${text}` : ''}`);
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  async click(css) {
    const element = await this.waitFor(css);
    // To the middle of the window first, as a person scrolls: the driver
    // scrolls only to the edge, where the app's tab bar lies at phone width.
    await this.execute("arguments[0].scrollIntoView({ block: 'center' })", [{ [ELEMENT]: element }]);
    await this.#call('POST', `/element/${element}/click`, {});
  }

  /** Types `text` into the element `css` (after clearing it). */
  async type(css, text) {
    const element = await this.waitFor(css);
    await this.#call('POST', `/element/${element}/clear`, {});
    await this.#call('POST', `/element/${element}/value`, { text });
  }

  /**
   * Sets a field's value as a paste would (WebKitWebDriver's typing drops
   * newlines, which a PEM needs).
   */
  async paste(css, text) {
    const element = await this.waitFor(css);
    await this.execute(
      "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input', { bubbles: true }));",
      [{ [ELEMENT]: element }, text],
    );
  }

  /** The rendered text of the first element matching `css`. */
  async text(css) {
    return this.elementText(await this.waitFor(css));
  }

  async elementText(element) {
    return this.#call('GET', `/element/${element}/text`);
  }

  async execute(script, args = []) {
    return this.#call('POST', '/execute/sync', { script, args });
  }

  /** Runs `script` with a callback as its last argument; its value is what the callback got. */
  async executeAsync(script, args = []) {
    return this.#call('POST', '/execute/async', { script, args });
  }

  /** The window's size and place: `{ x, y, width, height }`. */
  async windowRect() {
    return this.#call('GET', '/window/rect');
  }

  async setWindowRect(rect) {
    return this.#call('POST', '/window/rect', rect);
  }

  /** A PNG of the window, as a Buffer. */
  async screenshot() {
    return Buffer.from(await this.#call('GET', '/screenshot'), 'base64');
  }

  async delete() {
    await fetch(this.url, { method: 'DELETE' }).catch(() => {});
  }
}
