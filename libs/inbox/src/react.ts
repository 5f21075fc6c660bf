import { createComponent, type EventName } from '@lit/react';
import * as React from 'react';
import type { Notification, NotificationCounts, NotificationPreferences } from '@rtnotify/protocol';
import type { StateEvent } from '@rtnotify/client';
import { RtnotifyInbox, TAG_NAME, type NotificationContent } from './index.js';

/**
 * `<RtnotifyInbox>` for React: the web component with its properties as props (`token`, `templates`,
 * `renderer`, `strings`, …) and its events as `on…` callbacks.
 */
export const RtnotifyInboxReact = createComponent({
  tagName: TAG_NAME,
  elementClass: RtnotifyInbox,
  react: React,
  events: {
    onNotification: 'rtnotify-notification' as EventName<CustomEvent<Notification>>,
    onActivate: 'rtnotify-activate' as EventName<
      CustomEvent<{ notification: Notification; content: NotificationContent }>
    >,
    onCounts: 'rtnotify-counts' as EventName<CustomEvent<NotificationCounts>>,
    onStateChange: 'rtnotify-state' as EventName<CustomEvent<StateEvent>>,
    onInboxError: 'rtnotify-error' as EventName<CustomEvent<{ code: string; message: string }>>,
    onPreferences: 'rtnotify-preferences' as EventName<CustomEvent<NotificationPreferences>>,
  },
});
