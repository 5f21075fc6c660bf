import { RtnotifyInbox } from './inbox-element.js';

export {
  RtnotifyInbox,
  type NotificationContent,
  type NotificationRenderer,
  type NotificationTemplate,
} from './inbox-element.js';
export { DEFAULT_STRINGS, type InboxStrings, type InboxTab } from './strings.js';
export type { CachedInbox } from './cache.js';

/** The tag name the package defines on import. */
export const TAG_NAME = 'rtnotify-inbox';

// Importing the package defines the element once (a second copy on the page leaves the first).
if (typeof customElements !== 'undefined' && !customElements.get(TAG_NAME)) {
  customElements.define(TAG_NAME, RtnotifyInbox);
}

declare global {
  interface HTMLElementTagNameMap {
    'rtnotify-inbox': RtnotifyInbox;
  }
}
