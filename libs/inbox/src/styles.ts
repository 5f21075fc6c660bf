import { css } from 'lit';

/**
 * Theming: every colour, the radius, the font and the panel's size are custom properties
 * (`--rtnotify-*`) with light and dark defaults; the parts (`::part(bell)`, `::part(panel)`, …) are
 * open to the page's own CSS. Logical properties throughout, so `dir="rtl"` mirrors the layout.
 */
export const inboxStyles = css`
  :host {
    --_bg: var(--rtnotify-bg, #ffffff);
    --_fg: var(--rtnotify-fg, #1f2328);
    --_muted: var(--rtnotify-muted, #57606a);
    --_border: var(--rtnotify-border, #d0d7de);
    --_hover: var(--rtnotify-hover, #f3f5f7);
    --_unread-bg: var(--rtnotify-unread-bg, #eef5ff);
    --_accent: var(--rtnotify-accent, #0859c7);
    --_accent-fg: var(--rtnotify-accent-fg, #ffffff);
    --_badge: var(--rtnotify-badge, #c4212b);
    --_badge-fg: var(--rtnotify-badge-fg, #ffffff);
    --_focus: var(--rtnotify-focus, #0859c7);
    --_radius: var(--rtnotify-radius, 10px);
    --_shadow: var(--rtnotify-shadow, 0 12px 32px rgb(31 35 40 / 0.18));
    --_width: var(--rtnotify-panel-width, 380px);
    --_height: var(--rtnotify-panel-height, 480px);
    display: inline-block;
    position: relative;
    font: var(--rtnotify-font, 14px/1.4 system-ui, -apple-system, 'Segoe UI', sans-serif);
    color: var(--_fg);
  }
  :host([theme='dark']) {
    --_bg: var(--rtnotify-bg, #161b22);
    --_fg: var(--rtnotify-fg, #e6edf3);
    --_muted: var(--rtnotify-muted, #9ea7b3);
    --_border: var(--rtnotify-border, #3d444d);
    --_hover: var(--rtnotify-hover, #21262d);
    --_unread-bg: var(--rtnotify-unread-bg, #132339);
    --_accent: var(--rtnotify-accent, #5ea2f8);
    --_accent-fg: var(--rtnotify-accent-fg, #0d1117);
    --_badge: var(--rtnotify-badge, #b62324);
    --_focus: var(--rtnotify-focus, #5ea2f8);
    --_shadow: var(--rtnotify-shadow, 0 12px 32px rgb(0 0 0 / 0.5));
  }
  @media (prefers-color-scheme: dark) {
    :host([theme='auto']) {
      --_bg: var(--rtnotify-bg, #161b22);
      --_fg: var(--rtnotify-fg, #e6edf3);
      --_muted: var(--rtnotify-muted, #9ea7b3);
      --_border: var(--rtnotify-border, #3d444d);
      --_hover: var(--rtnotify-hover, #21262d);
      --_unread-bg: var(--rtnotify-unread-bg, #132339);
      --_accent: var(--rtnotify-accent, #5ea2f8);
      --_accent-fg: var(--rtnotify-accent-fg, #0d1117);
      --_badge: var(--rtnotify-badge, #b62324);
      --_focus: var(--rtnotify-focus, #5ea2f8);
    }
  }
  :host([inline]) {
    display: block;
  }
  * {
    box-sizing: border-box;
  }
  button {
    font: inherit;
    color: inherit;
    cursor: pointer;
  }
  :focus-visible {
    outline: 2px solid var(--_focus);
    outline-offset: 2px;
  }
  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    margin: -1px;
    padding: 0;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
    border: 0;
  }
  .bell {
    position: relative;
    display: inline-grid;
    place-items: center;
    width: 40px;
    height: 40px;
    border: 1px solid var(--_border);
    border-radius: 50%;
    background: var(--_bg);
  }
  .bell:hover {
    background: var(--_hover);
  }
  .bell svg {
    width: 22px;
    height: 22px;
  }
  .badge {
    position: absolute;
    inset-block-start: -4px;
    inset-inline-end: -4px;
    min-width: 20px;
    height: 20px;
    padding: 0 5px;
    border-radius: 10px;
    background: var(--_badge);
    color: var(--_badge-fg);
    font-size: 12px;
    font-weight: 600;
    line-height: 20px;
    text-align: center;
  }
  .badge[data-count='0'] {
    display: none;
  }
  .panel {
    position: absolute;
    z-index: var(--rtnotify-z-index, 1000);
    inset-block-start: calc(100% + 8px);
    inset-inline-end: 0;
    display: flex;
    flex-direction: column;
    width: min(var(--_width), 100vw - 16px);
    max-height: var(--_height);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_bg);
    color: var(--_fg);
    box-shadow: var(--_shadow);
    overflow: hidden;
  }
  :host([inline]) .panel {
    position: static;
    width: 100%;
    box-shadow: none;
  }
  .head {
    display: flex;
    align-items: center;
    gap: 8px;
    padding: 12px 12px 0;
  }
  .head h2 {
    flex: 1;
    margin: 0;
    font-size: 16px;
  }
  .head h2:focus {
    outline: none;
  }
  .link {
    border: 0;
    background: none;
    color: var(--_accent);
    padding: 4px 6px;
    border-radius: 6px;
  }
  .link:hover {
    background: var(--_hover);
  }
  .link.icon {
    display: inline-grid;
    place-items: center;
    padding: 4px;
  }
  .icon svg {
    width: 20px;
    height: 20px;
  }
  .link[disabled] {
    color: var(--_muted);
    cursor: default;
  }
  .tabs {
    display: flex;
    gap: 4px;
    padding: 8px 12px 0;
    border-block-end: 1px solid var(--_border);
  }
  .tab {
    border: 0;
    border-block-end: 2px solid transparent;
    background: none;
    padding: 6px 8px;
    color: var(--_muted);
  }
  .tab[aria-selected='true'] {
    border-block-end-color: var(--_accent);
    color: var(--_fg);
    font-weight: 600;
  }
  .count {
    display: inline-block;
    min-width: 18px;
    margin-inline-start: 4px;
    padding: 0 5px;
    border-radius: 9px;
    background: var(--_hover);
    color: var(--_fg);
    font-size: 12px;
    font-weight: 600;
    text-align: center;
  }
  .count[data-count='0'] {
    display: none;
  }
  .chips {
    display: flex;
    flex-wrap: wrap;
    gap: 6px;
    padding: 8px 12px;
  }
  .chip {
    border: 1px solid var(--_border);
    border-radius: 14px;
    background: var(--_bg);
    padding: 2px 10px;
  }
  .chip[aria-pressed='true'] {
    border-color: var(--_accent);
    background: var(--_accent);
    color: var(--_accent-fg);
  }
  .chip[aria-pressed='true'] .count {
    background: var(--_accent-fg);
    color: var(--_accent);
  }
  .notice {
    margin: 0 12px 8px;
    padding: 8px 10px;
    border-radius: 8px;
    background: var(--_hover);
    color: var(--_fg);
  }
  .scroller {
    flex: 1;
    overflow-y: auto;
    min-height: 120px;
    border-block-start: 1px solid var(--_border);
  }
  ul.list {
    list-style: none;
    margin: 0;
    padding: 0;
  }
  li.item {
    display: grid;
    grid-template-columns: 10px 1fr auto;
    gap: 4px 10px;
    padding: 10px 12px;
    border-block-end: 1px solid var(--_border);
  }
  li.item:hover {
    background: var(--_hover);
  }
  li.item.unread {
    background: var(--_unread-bg);
  }
  li.item:focus-visible {
    outline-offset: -2px;
  }
  .marker {
    width: 8px;
    height: 8px;
    margin-block-start: 6px;
    border-radius: 50%;
  }
  .unread .marker {
    background: var(--_accent);
  }
  .content {
    min-width: 0;
  }
  .title {
    font-weight: 600;
    overflow-wrap: anywhere;
  }
  .read .title {
    font-weight: 400;
  }
  .body {
    color: var(--_muted);
    overflow-wrap: anywhere;
  }
  .meta {
    display: flex;
    flex-wrap: wrap;
    gap: 6px;
    margin-block-start: 2px;
    color: var(--_muted);
    font-size: 12px;
  }
  .collapsed {
    padding: 0 6px;
    border-radius: 8px;
    background: var(--_hover);
    color: var(--_fg);
  }
  .actions {
    display: flex;
    flex-direction: column;
    gap: 2px;
    align-items: flex-end;
  }
  .actions .link {
    font-size: 12px;
  }
  .state {
    display: grid;
    place-items: center;
    gap: 6px;
    padding: 32px 16px;
    text-align: center;
    color: var(--_muted);
  }
  .state strong {
    color: var(--_fg);
  }
  .state svg {
    width: 40px;
    height: 40px;
    opacity: 0.6;
  }
  .skeleton {
    height: 52px;
    margin: 10px 12px;
    border-radius: 8px;
    background: var(--_hover);
  }
  .more {
    display: block;
    margin: 8px auto;
  }
  .prefs {
    padding: 4px 12px 12px;
  }
  .prefs .hint {
    margin: 8px 0;
    color: var(--_muted);
  }
  .prefs .notice {
    margin: 0 0 8px;
  }
  .pref {
    display: flex;
    flex-wrap: wrap;
    gap: 6px 16px;
    margin: 0;
    padding: 10px 0;
    border: 0;
    border-block-start: 1px solid var(--_border);
  }
  .pref legend {
    float: inline-start;
    flex: 1 1 100%;
    padding: 0;
    font-weight: 600;
    overflow-wrap: anywhere;
  }
  .switch {
    display: inline-flex;
    align-items: center;
    gap: 8px;
    cursor: pointer;
  }
  .switch input {
    appearance: none;
    position: relative;
    flex: none;
    width: 34px;
    height: 20px;
    margin: 0;
    border: 1px solid var(--_muted);
    border-radius: 10px;
    background: var(--_hover);
    cursor: pointer;
  }
  .switch input::before {
    content: '';
    position: absolute;
    inset-block-start: 2px;
    inset-inline-start: 2px;
    width: 14px;
    height: 14px;
    border-radius: 50%;
    background: var(--_muted);
  }
  .switch input:checked {
    border-color: var(--_accent);
    background: var(--_accent);
  }
  .switch input:checked::before {
    inset-inline-start: 16px;
    background: var(--_accent-fg);
  }
  @media (forced-colors: active) {
    .switch input:checked::before {
      background: CanvasText;
    }
  }
  @media (prefers-reduced-motion: no-preference) {
    .skeleton {
      animation: pulse 1.2s ease-in-out infinite;
    }
    @keyframes pulse {
      50% {
        opacity: 0.5;
      }
    }
  }
`;
