/**
 * The fonts of the invoice PDF: Noto Sans (SIL Open Font License 1.1) from the pinned npm package
 * @expo-google-fonts/noto-sans, covering Latin, Greek and Cyrillic. Kept apart from the renderer so
 * the CDK app can name the files to ship with the function without loading them.
 */
export const INVOICE_FONTS = {
  normal: '@expo-google-fonts/noto-sans/400Regular/NotoSans_400Regular.ttf',
  bold: '@expo-google-fonts/noto-sans/700Bold/NotoSans_700Bold.ttf',
} as const;
