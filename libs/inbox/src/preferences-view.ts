import type { NotificationsClient } from '@rtnotify/client';
import type { CategoryPreference, NotificationPreferences } from '@rtnotify/protocol';
import { html, nothing, type ReactiveControllerHost, type TemplateResult } from 'lit';
import type { InboxStrings } from './strings.js';

type Setting = keyof CategoryPreference;
const SETTINGS: Setting[] = ['inApp', 'fallback'];
const DEFAULTS: CategoryPreference = { inApp: true, fallback: true };

/**
 * The user's delivery preferences in the panel: a group per category with an in-app and a fallback
 * switch, each saved over HTTP (`PATCH /v1/me/preferences`) as soon as it changes. Saves go one at a
 * time, in order; a switch shows its new value at once and goes back if the server refuses, with a
 * message in an alert region.
 */
export class PreferencesView {
  state: 'loading' | 'ready' | 'error' = 'loading';
  private preferences: NotificationPreferences = { categories: {} };
  /** Values shown before the server confirmed them, by `category/setting`. */
  private readonly pending = new Map<string, boolean>();
  /** The category whose change the server refused (shown until the next change). */
  private failed: string | undefined;
  private queue: Promise<void> = Promise.resolve();
  private readonly known = new Set<string>();
  /** Bumped by `reset()`, so late answers for a previous user are dropped. */
  private generation = 0;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly clientOf: () => NotificationsClient | undefined,
    /** Fires an event of the element: `rtnotify-error`, `rtnotify-preferences`. */
    private readonly fire: (name: string, detail: unknown) => void,
  ) {}

  /**
   * The categories with a stored setting, and those that had one while shown (a category set back
   * to on for both is no longer stored, but its switches stay where they were).
   */
  get saved(): string[] {
    for (const category of Object.keys(this.preferences.categories)) this.known.add(category);
    return [...this.known];
  }

  async load(): Promise<void> {
    const generation = this.generation;
    // Loaded once: the switches stay while they are read again.
    if (this.state !== 'ready') this.state = 'loading';
    this.host.requestUpdate();
    try {
      const client = this.clientOf();
      if (!client) throw new Error('not signed in');
      const preferences = await client.getPreferences();
      if (generation !== this.generation) return;
      this.preferences = preferences;
      this.state = 'ready';
    } catch (error) {
      if (generation !== this.generation) return;
      this.state = 'error';
      this.fire('rtnotify-error', { code: 'preferences_failed', message: messageOf(error) });
    }
    this.host.requestUpdate();
  }

  reset(): void {
    this.generation += 1;
    this.preferences = { categories: {} };
    this.pending.clear();
    this.known.clear();
    this.failed = undefined;
    this.state = 'loading';
  }

  private valueOf(category: string, setting: Setting): boolean {
    const { categories } = this.preferences;
    return (
      this.pending.get(`${category}/${setting}`) ??
      (Object.hasOwn(categories, category) ? categories[category] : DEFAULTS)[setting]
    );
  }

  private change(category: string, setting: Setting, value: boolean): void {
    const key = `${category}/${setting}`;
    const generation = this.generation;
    this.pending.set(key, value);
    this.failed = undefined;
    this.host.requestUpdate();
    this.queue = this.queue.then(async () => {
      if (generation !== this.generation) return;
      try {
        const client = this.clientOf();
        if (!client) throw new Error('not signed in');
        const answer = await client.updatePreferences({
          categories: { [category]: { [setting]: value } },
        });
        if (generation !== this.generation) return;
        this.preferences = answer;
        this.fire('rtnotify-preferences', answer);
      } catch (error) {
        if (generation !== this.generation) return;
        this.failed = category;
        this.fire('rtnotify-error', { code: 'preferences_failed', message: messageOf(error) });
      }
      // A later change of the same switch keeps its own pending value.
      if (this.pending.get(key) === value) this.pending.delete(key);
      this.host.requestUpdate();
    });
  }

  render(s: InboxStrings, categories: string[]): TemplateResult {
    return html`<div class="prefs" part="preferences">
      <p class="hint">${s.preferencesHint}</p>
      <div class="alert" role="alert">
        ${
          this.failed === undefined
            ? nothing
            : html`<p class="notice" part="state" data-state="save-failed">
                ${s.preferencesSaveFailed(s.categoryName(this.failed))}
              </p>`
        }
      </div>
      ${this.renderBody(s, categories)}
    </div>`;
  }

  private renderBody(s: InboxStrings, categories: string[]): TemplateResult {
    if (this.state === 'loading') {
      return html`<div class="state" part="state" data-state="loading" role="status">
        <span>${s.preferencesLoading}</span>
      </div>`;
    }
    if (this.state === 'error') {
      return html`<div class="state" part="state" data-state="error">
        <strong>${s.preferencesError}</strong>
        <button type="button" class="link retry" part="action" @click=${() => this.load()}>
          ${s.retry}
        </button>
      </div>`;
    }
    if (categories.length === 0) {
      return html`<div class="state" part="state" data-state="empty">
        <strong>${s.preferencesEmpty}</strong>
      </div>`;
    }
    return html`${categories.map(
      (category) =>
        html`<fieldset class="pref" part="preference" data-category=${category}>
          <legend>${s.categoryName(category)}</legend>
          ${SETTINGS.map(
            (setting) =>
              html`<label class="switch"
                ><input
                  type="checkbox"
                  role="switch"
                  part="switch"
                  data-setting=${setting}
                  .checked=${this.valueOf(category, setting)}
                  @change=${(event: Event) =>
                    this.change(category, setting, (event.target as HTMLInputElement).checked)}
                />${s.preferenceSettings[setting]}</label
              >`,
          )}
        </fieldset>`,
    )}`;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
