import { buildOrderApp } from './build.ts';

buildOrderApp();
