// Messages for the user (errors from the app, lost connection), shown in a live region.
export interface Notice {
  id: number;
  kind: 'error' | 'info';
  message: string;
}

const MAX_NOTICES = 5;
let nextId = 1;

export const notices = $state<{ list: Notice[] }>({ list: [] });

export function notify(kind: Notice['kind'], message: string): void {
  notices.list.push({ id: nextId++, kind, message });
  if (notices.list.length > MAX_NOTICES) notices.list.splice(0, notices.list.length - MAX_NOTICES);
}

export function dismissNotice(id: number): void {
  const i = notices.list.findIndex((n) => n.id === id);
  if (i >= 0) notices.list.splice(i, 1);
}
