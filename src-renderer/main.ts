// Renderer entry: global styles, theme before first paint, then the app.
import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { initTheme } from './state/theme.svelte.ts';

initTheme();
const target = document.getElementById('studio-root');
if (!target) throw new Error('index.html lacks the #studio-root element');
mount(App, { target });
