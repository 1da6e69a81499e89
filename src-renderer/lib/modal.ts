// Svelte action for <dialog>: shown as a modal (focus moves in, Esc closes, the page behind is
// inert) while the bound value is true. The dialog's own `close` event tells the host it closed.
export function modal(dialog: HTMLDialogElement, open: boolean): { update: (open: boolean) => void } {
  const apply = (show: boolean): void => {
    if (show && !dialog.open) dialog.showModal();
    else if (!show && dialog.open) dialog.close();
  };
  apply(open);
  return { update: apply };
}
